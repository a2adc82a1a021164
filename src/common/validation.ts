import { ArgumentMetadata, ValidationPipe } from '@nestjs/common';
import { getMetadataStorage, ValidationError, ValidationTypes, ValidatorOptions } from 'class-validator';
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

/** Items of a list validated before validation stops: a sync of 100,000 empty VMs costs ten checks, not 400,000 errors. */
const MAX_BAD_ITEMS = 10;

type Validated = Record<string, unknown>;

function rulesOf(object: object) {
  return getMetadataStorage().getTargetValidationMetadatas(object.constructor, '', true, false);
}

/** Lists longer than their ArrayMaxSize, found before any of their items is looked at. */
function oversizedLists(object: Validated): ValidationError[] {
  const errors: ValidationError[] = [];
  for (const rule of rulesOf(object)) {
    if (rule.name !== 'arrayMaxSize') continue;
    const value = object[rule.propertyName];
    const max = Number(rule.constraints?.[0]);
    if (Array.isArray(value) && value.length > max) {
      errors.push(
        Object.assign(new ValidationError(), {
          property: rule.propertyName,
          children: [],
          constraints: { arrayMaxSize: `${rule.propertyName} must contain no more than ${max} elements` },
        }),
      );
    }
  }
  return errors;
}

class StrictValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if ((metadata.type === 'body' || metadata.type === 'query') && this.toValidate(metadata)) {
      const problems = prototypeKeyProblems(value);
      if (problems.length > 0) throw new RequestValidationError(problems);
    }
    return super.transform(value, metadata);
  }

  /**
   * Sizes first, then each list of nested objects item by item, stopping after a few bad ones; the rest
   * of the object is validated with those lists set aside, so that every item is still checked once.
   */
  protected override async validate(object: object, options?: ValidatorOptions): Promise<ValidationError[]> {
    const target = object as Validated;
    const oversized = oversizedLists(target);
    if (oversized.length > 0) return oversized;
    const lists = [
      ...new Set(
        rulesOf(object)
          .filter((r) => r.type === ValidationTypes.NESTED_VALIDATION)
          .map((r) => r.propertyName),
      ),
    ].filter((p) => Array.isArray(target[p]));
    if (lists.length === 0) return super.validate(object, options);

    const itemErrors: ValidationError[] = [];
    let bad = 0;
    for (const property of lists) {
      const items = target[property] as unknown[];
      const children: ValidationError[] = [];
      for (let i = 0; i < items.length && bad < MAX_BAD_ITEMS; i++) {
        const item = items[i];
        let error: ValidationError | undefined;
        if (item === null || typeof item !== 'object' || Array.isArray(item)) {
          error = Object.assign(new ValidationError(), {
            property: String(i),
            children: [],
            constraints: { nestedValidation: `${i} must be an object` },
          });
        } else {
          const found = await super.validate(item, options);
          if (found.length > 0) error = Object.assign(new ValidationError(), { property: String(i), children: found });
        }
        if (error) {
          bad++;
          children.push(error);
        }
      }
      if (children.length > 0) itemErrors.push(Object.assign(new ValidationError(), { property, children }));
    }
    const saved = lists.map((p) => [p, target[p]] as const);
    for (const [p] of saved) target[p] = [];
    try {
      return [...(await super.validate(object, options)), ...itemErrors];
    } finally {
      for (const [p, items] of saved) target[p] = items;
    }
  }
}

export function createValidationPipe(): ValidationPipe {
  return new StrictValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    // One error per field is enough to name it; lists stop after a few bad items (see validate above).
    stopAtFirstError: true,
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => new RequestValidationError(flattenValidationErrors(errors)),
  });
}
