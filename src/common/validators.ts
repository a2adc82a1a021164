import { applyDecorators } from '@nestjs/common';
import { Transform } from 'class-transformer';
import {
  buildMessage,
  IsInt,
  IsNotEmpty,
  IsObject,
  IsString,
  IsUUID,
  Matches,
  MaxLength,
  ValidateBy,
  ValidateIf,
  ValidationOptions,
} from 'class-validator';

/** Half of a UTF-16 surrogate pair without the other half: not text, and stored as U+FFFD. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Strings must be well-formed Unicode: SQLite keeps UTF-8, so a lone surrogate (which JSON can carry
 * as "\ud800") would be silently replaced by U+FFFD, and two different names would be stored alike.
 */
export function IsWellFormed(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isWellFormed',
      validator: {
        validate: (value: unknown) => typeof value !== 'string' || !LONE_SURROGATE.test(value),
        defaultMessage: buildMessage((each) => `${each}$property must be well-formed Unicode text (no lone surrogate)`, options),
      },
    },
    options,
  );
}

/** An array of objects, each validated as a nested DTO: `ValidateNested` alone would also walk into nested arrays. */
export function IsObjectEach(): PropertyDecorator {
  return IsObject({ each: true, message: 'each value in $property must be an object' });
}

// eslint-disable-next-line no-control-regex -- control characters are what it looks for
const CONTROL_CHARACTERS = /[\x00-\x1f\x7f-\x9f]/;

/**
 * A display name: 1–200 characters, no control characters, well-formed Unicode, surrounding spaces
 * trimmed. A control character is refused wherever it stands: a tab or newline at the edge is not
 * trimmed away into an accepted name.
 */
export function IsName(): PropertyDecorator {
  return applyDecorators(
    Transform(({ value }: { value: unknown }) => (typeof value === 'string' && !CONTROL_CHARACTERS.test(value) ? value.trim() : value)),
    IsString(),
    IsNotEmpty(),
    MaxLength(200),
    // eslint-disable-next-line no-control-regex -- control characters are what a name must not contain
    Matches(/^[^\x00-\x1f\x7f-\x9f]*$/, { message: '$property must not contain control characters' }),
    IsWellFormed(),
  );
}

export function IsId(options: ValidationOptions = {}): PropertyDecorator {
  const message = options.each ? 'each value in $property must be a UUID' : '$property must be a UUID';
  return applyDecorators(IsUUID('all', { message, ...options }));
}

/** The version the client last read; a mismatch means someone else changed the resource (409). */
export function IsVersion(): PropertyDecorator {
  return applyDecorators(IsInt());
}

/**
 * The field may be left out, but not sent as null (class-validator's IsOptional lets null through,
 * which a NOT NULL column then refuses). Nullable fields add their own ValidateIf for null.
 */
export function Optional(): PropertyDecorator {
  return ValidateIf((_, value) => value !== undefined);
}

/** Epoch milliseconds from "1732500000000" or an ISO-8601 string; anything else stays a string and fails validation. */
export const toEpochMs = ({ value }: { value: unknown }) => {
  if (typeof value !== 'string') return value;
  if (/^\d{1,15}$/.test(value)) return Number(value);
  const parsed = /^\d{4}-\d{2}-\d{2}/.test(value) ? Date.parse(value) : NaN;
  return Number.isNaN(parsed) ? value : parsed;
};
