import { ValidationError, ValidationPipe } from '@nestjs/common';
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

export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => new RequestValidationError(flattenValidationErrors(errors)),
  });
}
