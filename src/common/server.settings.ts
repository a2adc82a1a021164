// Server-wide settings: where the HTTP server listens, what it logs, and what requests it takes.
import { IsIn, IsInt, IsNotEmpty, IsString, Matches, Max, Min } from 'class-validator';
import { ParseInt } from '../config/transforms';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export class ServerSettings {
  @ParseInt()
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT = 3000;

  @IsString()
  @IsNotEmpty()
  HOST = '127.0.0.1';

  @IsIn(LOG_LEVELS)
  LOG_LEVEL: LogLevel = 'info';

  /** Requests one client (IP address) may make per RATE_LIMIT_WINDOW_SECONDS; more get a 429. 0 turns the limit off. */
  @ParseInt()
  @IsInt()
  @Min(0)
  @Max(10_000_000)
  RATE_LIMIT_MAX = 3000;

  @ParseInt()
  @IsInt()
  @Min(1)
  @Max(86_400)
  RATE_LIMIT_WINDOW_SECONDS = 60;

  // --- Request intake (Hardening II): which Host headers are served ---

  /**
   * Host names (comma-separated, e.g. `drs.example.org,10.0.0.5`) the `Host` header must carry once API
   * tokens exist; empty serves any. Without tokens only localhost, 127.0.0.1 and [::1] are served.
   */
  @IsString()
  @Matches(/^[A-Za-z0-9.:[\],\s-]*$/, { message: 'ALLOWED_HOSTS must be host names or IP addresses, comma-separated' })
  ALLOWED_HOSTS = '';

  /** Origins (comma-separated) whose browser pages may call the API; empty keeps CORS closed. */
  @IsString()
  CORS_ORIGINS = '';

  /** A request that takes longer than this (receiving it or answering it) gets a 503. */
  @ParseInt()
  @IsInt()
  @Min(1)
  @Max(3600)
  REQUEST_TIMEOUT_SECONDS = 60;
}
