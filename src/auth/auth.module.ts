import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerModule } from '@nestjs/throttler';
import { AppConfig } from '../config/app-config';
import { AuthGuard } from './auth.guard';
import { RateLimitGuard } from './rate-limit.guard';
import { TokensController } from './tokens.controller';
import { TokensService } from './tokens.service';

@Module({
  imports: [
    ThrottlerModule.forRootAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({
        throttlers: [{ limit: config.get('RATE_LIMIT_MAX'), ttl: config.get('RATE_LIMIT_WINDOW_SECONDS') * 1000 }],
        skipIf: () => config.get('RATE_LIMIT_MAX') === 0,
        errorMessage: `Too many requests: at most ${config.get('RATE_LIMIT_MAX')} per ${config.get('RATE_LIMIT_WINDOW_SECONDS')} s from one client`,
      }),
    }),
  ],
  controllers: [TokensController],
  // The rate limit comes first, so that guessing tokens is throttled too.
  providers: [TokensService, { provide: APP_GUARD, useClass: RateLimitGuard }, { provide: APP_GUARD, useClass: AuthGuard }],
  exports: [TokensService],
})
export class AuthModule {}
