import { DynamicModule, Module, RequestMethod } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { APP_FILTER } from '@nestjs/core';
import { ScheduleModule } from '@nestjs/schedule';
import { LoggerModule } from 'nestjs-pino';
import { AuthModule } from './auth/auth.module';
import { BalancerModule } from './balancer/balancer.module';
import { ClockModule } from './common/clock';
import { ProblemFilter } from './common/problem.filter';
import { AppConfig } from './config/app-config';
import { AppConfigModule } from './config/app-config.module';
import { Environment, validateEnvironment } from './config/environment';
import { DashboardModule } from './dashboard/dashboard.module';
import { DatabaseModule } from './database/database.module';
import { EventsModule } from './events/events.module';
import { HealthModule } from './health/health.module';
import { InventoryModule } from './inventory/inventory.module';
import { LiveMigrationModule } from './live-migration/live-migration.module';
import { MaintenanceModule } from './maintenance/maintenance.module';
import { SamplesModule } from './samples/samples.module';
import { PoliciesModule } from './policies/policies.module';
import { RecommendationsModule } from './recommendations/recommendations.module';
import { RulesModule } from './rules/rules.module';
import { SecretsModule } from './secrets/secrets.module';
import { PassesModule } from './passes/passes.module';
import { ObservabilityModule } from './observability/observability.module';
import { ClusterMetricsModule } from './cluster-metrics/cluster-metrics.module';
import { SimulatorModule } from './simulator/simulator.module';

@Module({})
export class AppModule {
  /** `overrides` win over the environment: tests pass a temporary database path this way. */
  static forRoot(overrides: Partial<Record<keyof Environment, unknown>> = {}): DynamicModule {
    return {
      module: AppModule,
      imports: [
        // Read and validated once; the validated values are not written back into process.env (so that
        // apps built one after another in one process, as tests do, never see each other's settings).
        ConfigModule.forRoot({
          isGlobal: true,
          cache: true,
          ignoreEnvFile: true,
          validatePredefined: false,
          skipProcessEnv: true,
          load: [() => ({ ...validateEnvironment({ ...process.env, ...overrides }) })],
        }),
        AppConfigModule,
        LoggerModule.forRootAsync({
          inject: [AppConfig],
          useFactory: (config: AppConfig) => ({
            pinoHttp: {
              level: config.get('LOG_LEVEL'),
              redact: ['req.headers.authorization', 'req.headers.cookie'],
            },
            // The root logger only: its per-request middleware (pino-http and an AsyncLocalStorage
            // bind) is applied to no route. accessLog writes the access lines (see there for why).
            exclude: [{ path: '{*path}', method: RequestMethod.ALL }],
          }),
        }),
        ScheduleModule.forRoot(),
        ClockModule,
        SecretsModule,
        DatabaseModule,
        EventsModule,
        AuthModule,
        HealthModule,
        InventoryModule,
        RulesModule,
        SamplesModule,
        PoliciesModule,
        BalancerModule,
        PassesModule,
        RecommendationsModule,
        MaintenanceModule,
        SimulatorModule,
        LiveMigrationModule,
        DashboardModule,
        ObservabilityModule,
        ClusterMetricsModule,
      ],
      providers: [{ provide: APP_FILTER, useClass: ProblemFilter }],
    };
  }
}
