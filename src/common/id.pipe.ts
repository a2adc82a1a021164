import { Injectable, Param, PipeTransform } from '@nestjs/common';
import { isUUID } from 'class-validator';
import { DomainError, ErrorCode } from './domain-error';

@Injectable()
export class ParseIdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!isUUID(value, 'all')) {
      throw new DomainError(ErrorCode.Invalid, `id "${String(value).slice(0, 64)}" is not a UUID`, [
        { field: 'id', rule: 'isUuid', message: 'id must be a UUID' },
      ]);
    }
    return value;
  }
}

/** The `:id` route parameter, checked to be a UUID (400 naming `id` otherwise). */
export const IdParam = (): ParameterDecorator => Param('id', ParseIdPipe);
