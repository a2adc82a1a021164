import { ArgumentMetadata, ValidationError, ValidationPipe } from '@nestjs/common';
import { FieldProblem } from './domain-error';

/** Thrown by the global ValidationPipe; rendered as a 400 problem naming each bad field. */
export class RequestValidationError extends Error {
  constructor(readonly errors: FieldProblem[]) {
    super(`Invalid request: ${errors.map((e) => e.field).join(', ')}`);
    this.name = 'RequestValidationError';
  }
}

const MAX_REPORTED = 50;

/** class-validator names the bare property; say the full path instead (`vms.12.memoryMib`). */
function describe(field: string, property: string, rule: string, message: string): string {
  if (rule === 'whitelistValidation') return `${field} is not an accepted field`;
  return message.startsWith(`${property} `) ? `${field}${message.slice(property.length)}` : message;
}

export function flattenValidationErrors(errors: ValidationError[], parent = ''): FieldProblem[] {
  const out: FieldProblem[] = [];
  const walk = (list: ValidationError[], prefix: string) => {
    for (const error of list) {
      if (out.length >= MAX_REPORTED) return;
      const field = prefix ? `${prefix}.${error.property}` : error.property;
      for (const [rule, message] of Object.entries(error.constraints ?? {})) {
        out.push({ field, rule, message: describe(field, error.property, rule, message) });
      }
      if (error.children?.length) walk(error.children, field);
    }
  };
  walk(errors, parent);
  return out;
}

/**
 * Keys named like Object.prototype's members (`toString`, `hasOwnProperty`, `isPrototypeOf`, ...).
 * class-transformer skips them when it builds the DTO, so `forbidNonWhitelisted` never sees them and
 * they were silently ignored; they are refused here like any other unknown field.
 */
const PROTOTYPE_KEYS = new Set([...Object.getOwnPropertyNames(Object.prototype), 'prototype']);
const MAX_DEPTH = 64;

export function prototypeKeyProblems(value: unknown): FieldProblem[] {
  const out: FieldProblem[] = [];
  const walk = (v: unknown, path: string, depth: number) => {
    if (v === null || typeof v !== 'object' || depth > MAX_DEPTH) return;
    for (const key of Object.keys(v)) {
      if (out.length >= MAX_REPORTED) return;
      const field = path ? `${path}.${key}` : key;
      if (PROTOTYPE_KEYS.has(key)) out.push({ field, rule: 'whitelistValidation', message: `${field} is not an accepted field` });
      else walk((v as Record<string, unknown>)[key], field, depth + 1);
    }
  };
  walk(value, '', 0);
  return out;
}

class StrictValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if ((metadata.type === 'body' || metadata.type === 'query') && this.toValidate(metadata)) {
      const problems = prototypeKeyProblems(value);
      if (problems.length > 0) throw new RequestValidationError(problems);
    }
    return super.transform(value, metadata);
  }
}

export function createValidationPipe(): ValidationPipe {
  return new StrictValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => new RequestValidationError(flattenValidationErrors(errors)),
  });
}
