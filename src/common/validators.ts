import { applyDecorators } from '@nestjs/common';
import { Transform } from 'class-transformer';
import { IsInt, IsNotEmpty, IsString, IsUUID, Matches, MaxLength, ValidateIf, ValidationOptions } from 'class-validator';

/** A display name: 1–200 characters, no control characters, surrounding spaces trimmed. */
export function IsName(): PropertyDecorator {
  return applyDecorators(
    Transform(({ value }) => (typeof value === 'string' ? value.trim() : value)),
    IsString(),
    IsNotEmpty(),
    MaxLength(200),
    // eslint-disable-next-line no-control-regex
    Matches(/^[^\x00-\x1f\x7f-\x9f]*$/, { message: '$property must not contain control characters' }),
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
