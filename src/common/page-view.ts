import { Type } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';

/** A documented list response `{ items, total, limit, offset }` for the given item class. */
export function PageOf<T>(item: Type<T>): Type<{ items: T[]; total: number; limit: number; offset: number }> {
  class PageView {
    @ApiProperty({ type: [item] })
    items: T[];

    @ApiProperty({ description: 'Items matching the filters, across all pages' })
    total: number;

    @ApiProperty()
    limit: number;

    @ApiProperty()
    offset: number;
  }
  Object.defineProperty(PageView, 'name', { value: `${item.name}Page` });
  return PageView;
}
