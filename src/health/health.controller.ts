import { Controller, Get } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Public } from '../auth/auth.guard';
import { HealthCheck, HealthCheckService, HealthIndicatorResult, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { ClusterOwnership } from '../replicas/cluster-ownership';

@ApiTags('health')
@Public()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: TypeOrmHealthIndicator,
    private readonly ownership: ClusterOwnership,
  ) {}

  /** 200 when the database answers, 503 otherwise; which replica answered and the clusters it owns (all of them on SQLite). */
  @Get()
  @HealthCheck()
  check() {
    return this.health.check([() => this.database.pingCheck('database', { timeout: 2000 }), () => this.replica()]);
  }

  private replica(): HealthIndicatorResult {
    const owned = this.ownership.owned();
    return {
      replica: {
        status: 'up',
        id: this.ownership.replicaId,
        mode: this.ownership.shared ? 'shared' : 'single',
        clusters: owned === null ? 'all' : owned.sort(),
      },
    };
  }
}
