import { Global, Injectable, Module } from '@nestjs/common';

/** Time as the services see it; tests replace it to move time forward at will. */
@Injectable()
export class Clock {
  now(): number {
    return Date.now();
  }
}

@Global()
@Module({ providers: [Clock], exports: [Clock] })
export class ClockModule {}
