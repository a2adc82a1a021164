// Validation of bulk sample input. Compiled JSON Schema (ajv) rather than class-validator: a batch of
// 50,000 samples must validate in milliseconds, and every bad entry is still named with its field.
import Ajv, { ErrorObject } from 'ajv';
import { FieldProblem } from '../common/domain-error';

export const MAX_SAMPLES_PER_REQUEST = 50_000;
const UUID = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';
const MAX_MHZ = 20_000_000;
const MAX_MIB = 128 * 1024 * 1024;
const EPOCH_MS_2100 = 4_102_444_800_000;

export interface SampleInput {
  vmId?: string;
  hostId?: string;
  clusterId?: string;
  vmName?: string;
  hostName?: string;
  /** Epoch milliseconds, or an ISO-8601 date-time string. */
  timestamp: number | string;
  cpuMhz: number;
  memoryActiveMib: number;
  memoryConsumedMib: number;
  memoryDirtyMibPerSecond?: number;
}

const name = { type: 'string', minLength: 1, maxLength: 200 };
export const SAMPLE_ITEM_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['timestamp', 'cpuMhz', 'memoryActiveMib', 'memoryConsumedMib'],
  properties: {
    vmId: { type: 'string', pattern: UUID },
    hostId: { type: 'string', pattern: UUID },
    clusterId: { type: 'string', pattern: UUID },
    vmName: name,
    hostName: name,
    timestamp: {
      anyOf: [
        { type: 'integer', minimum: 0, maximum: EPOCH_MS_2100 },
        { type: 'string', minLength: 10, maxLength: 40 },
      ],
    },
    cpuMhz: { type: 'number', minimum: 0, maximum: MAX_MHZ },
    memoryActiveMib: { type: 'number', minimum: 0, maximum: MAX_MIB },
    memoryConsumedMib: { type: 'number', minimum: 0, maximum: MAX_MIB },
    memoryDirtyMibPerSecond: { type: 'number', minimum: 0, maximum: 1_000_000 },
  },
} as const;

const BODY_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['samples'],
  properties: {
    samples: { type: 'array', minItems: 1, maxItems: MAX_SAMPLES_PER_REQUEST, items: SAMPLE_ITEM_SCHEMA },
  },
};

const ajv = new Ajv({ allErrors: true, strict: true });
const validateBody = ajv.compile<{ samples: SampleInput[] }>(BODY_SCHEMA);

const MAX_PROBLEMS = 100;

function describe(error: ErrorObject): FieldProblem {
  const path = error.instancePath.split('/').filter(Boolean);
  if (error.keyword === 'additionalProperties') path.push(String(error.params.additionalProperty));
  if (error.keyword === 'required') path.push(String(error.params.missingProperty));
  const field = path.join('.') || 'body';
  const message =
    error.keyword === 'additionalProperties'
      ? `${field} is not an accepted field`
      : error.keyword === 'required'
        ? `${field} is required`
        : error.keyword === 'anyOf'
          ? `${field} must be epoch milliseconds or an ISO-8601 date-time`
          : `${field} ${error.message}`;
  return { field, rule: error.keyword, message };
}

/** Problems with the body's shape, at most 100 (one per field); an empty list when it is valid. */
export function sampleBodyProblems(body: unknown): FieldProblem[] {
  if (validateBody(body)) return [];
  const seen = new Set<string>();
  const problems: FieldProblem[] = [];
  for (const error of validateBody.errors ?? []) {
    // anyOf reports each branch too; the anyOf line alone says it best.
    if (error.instancePath.endsWith('/timestamp') && error.keyword !== 'anyOf') continue;
    const problem = describe(error);
    if (seen.has(problem.field)) continue;
    seen.add(problem.field);
    problems.push(problem);
    if (problems.length >= MAX_PROBLEMS) break;
  }
  return problems;
}

/** Epoch milliseconds of a sample's timestamp, or NaN when the string is not a date-time. */
export function timestampMs(value: number | string): number {
  if (typeof value === 'number') return value;
  if (!/^\d{4}-\d{2}-\d{2}T/.test(value)) return NaN;
  return Date.parse(value);
}
