import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerStorage, ThrottlerStorageService } from '@nestjs/throttler';
import { AuthGuard } from './auth.guard';
import { TokensController } from './tokens.controller';
import { TokensService } from './tokens.service';

@Module({
  controllers: [TokensController],
  // The rate limit and the token check run as middleware (see configureApp); the guard checks roles per route.
  providers: [TokensService, { provide: ThrottlerStorage, useClass: ThrottlerStorageService }, { provide: APP_GUARD, useClass: AuthGuard }],
  exports: [TokensService, ThrottlerStorage],
})
export class AuthModule {}
