// Validation of bulk sample input. Compiled JSON Schema (ajv) rather than class-validator: a batch of
// 50,000 samples must validate in milliseconds, and the first bad entries are named with their fields.
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
  cpuReadyPercent?: number;
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
    cpuReadyPercent: { type: 'number', minimum: 0, maximum: 100 },
  },
} as const;

/** Fields of the item schema: an item with many more keys is refused without asking ajv to name each. */
const ITEM_FIELDS = Object.keys(SAMPLE_ITEM_SCHEMA.properties).length;

// The fast check stops at an item's first error; only the few failing items are checked again for all of theirs.
const validateItem = new Ajv({ allErrors: false, strict: true }).compile<SampleInput>(SAMPLE_ITEM_SCHEMA);
const describeItem = new Ajv({ allErrors: true, strict: true }).compile<SampleInput>(SAMPLE_ITEM_SCHEMA);

const MAX_PROBLEMS = 100;
/** Validation stops after this many bad samples: a batch of three million empty objects costs ten checks, not three million. */
const MAX_BAD_ITEMS = 10;

function describe(error: ErrorObject, prefix: string): FieldProblem {
  const path = [prefix, ...error.instancePath.split('/').filter(Boolean)];
  if (error.keyword === 'additionalProperties') path.push(String(error.params.additionalProperty));
  if (error.keyword === 'required') path.push(String(error.params.missingProperty));
  const field = path.join('.');
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

/** The body's own shape: an object holding only `samples`, a list of 1 to 50,000 entries. Checked before any entry. */
function envelopeProblems(body: unknown): FieldProblem[] {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    return [{ field: 'body', rule: 'type', message: 'The body must be an object: { "samples": [...] }' }];
  }
  const problems: FieldProblem[] = Object.keys(body)
    .filter((key) => key !== 'samples')
    .slice(0, MAX_PROBLEMS)
    .map((field) => ({ field, rule: 'additionalProperties', message: `${field} is not an accepted field` }));
  const samples = (body as { samples?: unknown }).samples;
  if (samples === undefined) problems.push({ field: 'samples', rule: 'required', message: 'samples is required' });
  else if (!Array.isArray(samples)) problems.push({ field: 'samples', rule: 'type', message: 'samples must be array' });
  else if (samples.length < 1) problems.push({ field: 'samples', rule: 'minItems', message: 'samples must NOT have fewer than 1 items' });
  else if (samples.length > MAX_SAMPLES_PER_REQUEST) {
    problems.push({ field: 'samples', rule: 'maxItems', message: `samples must NOT have more than ${MAX_SAMPLES_PER_REQUEST} items` });
  }
  return problems;
}

/** Problems of one bad sample, one per field. */
function itemProblems(item: unknown, prefix: string): FieldProblem[] {
  if (item !== null && typeof item === 'object' && !Array.isArray(item) && Object.keys(item).length > 2 * ITEM_FIELDS) {
    return [{ field: prefix, rule: 'maxProperties', message: `${prefix} has more fields than a sample takes` }];
  }
  describeItem(item);
  const seen = new Set<string>();
  const problems: FieldProblem[] = [];
  for (const error of describeItem.errors ?? []) {
    // anyOf reports each branch too; the anyOf line alone says it best.
    if (error.instancePath.endsWith('/timestamp') && error.keyword !== 'anyOf') continue;
    const problem = describe(error, prefix);
    if (seen.has(problem.field)) continue;
    seen.add(problem.field);
    problems.push(problem);
  }
  return problems;
}

/**
 * Problems with the body's shape, at most 100 (one per field) from at most 10 samples; an empty list
 * when it is valid. The list's size is checked before any entry, and entries stop being checked early.
 */
export function sampleBodyProblems(body: unknown): FieldProblem[] {
  const envelope = envelopeProblems(body);
  if (envelope.length > 0) return envelope;
  const samples = (body as { samples: unknown[] }).samples;
  const problems: FieldProblem[] = [];
  let bad = 0;
  for (let i = 0; i < samples.length && bad < MAX_BAD_ITEMS && problems.length < MAX_PROBLEMS; i++) {
    if (validateItem(samples[i])) continue;
    bad++;
    problems.push(...itemProblems(samples[i], `samples.${i}`));
  }
  return problems.slice(0, MAX_PROBLEMS);
}

/** Epoch milliseconds of a sample's timestamp, or NaN when the string is not a date-time. */
export function timestampMs(value: number | string): number {
  if (typeof value === 'number') return value;
  if (!/^\d{4}-\d{2}-\d{2}T/.test(value)) return NaN;
  return Date.parse(value);
}
