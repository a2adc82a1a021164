// What every kind of connector declares (its settings checked before anything is stored, and how a
// stored configuration becomes a live Connector), and the checks the kinds share.
import type { FieldProblem } from '../common/domain-error';
import type { Connector } from './connector';

export const MAX_TEXT = 1024;

export interface CheckedConfig {
  settings: Record<string, unknown>;
  credentials?: Record<string, string>;
}

/** A connector and what must be released with it (files holding credentials). */
export interface LiveConnector {
  connector: Connector;
  dispose(): Promise<void>;
}

export interface ConnectorKind {
  /** The settings and credentials as they will be stored, or the problems, each naming its field from the body's root. */
  check(settings: unknown, credentials: unknown): CheckedConfig | FieldProblem[];
  create(settings: Record<string, unknown>, credentials: Record<string, string> | undefined): LiveConnector;
}

export const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

export function unknownKeys(value: Record<string, unknown>, allowed: readonly string[], prefix: string): FieldProblem[] {
  return Object.keys(value)
    .filter((key) => !allowed.includes(key))
    .map((key) => ({ field: `${prefix}.${key}`, rule: 'whitelistValidation', message: `${prefix}.${key} is not an accepted field` }));
}
