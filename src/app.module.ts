import { DynamicModule, Module, RequestMethod } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { ScheduleModule } from '@nestjs/schedule';
import { LoggerModule } from 'nestjs-pino';
import { AuthModule } from './auth/auth.module';
import { BalancerModule } from './balancer/balancer.module';
import { BalancerSettings } from './balancer/balancer.settings';
import { ClockModule } from './common/clock';
import { ProblemFilter } from './common/problem.filter';
import { ServerSettings } from './common/server.settings';
import type { VariableName } from './config/settings';
import { SettingsModule } from './config/settings.module';
import { DashboardModule } from './dashboard/dashboard.module';
import { DatabaseModule } from './database/database.module';
import { DatabaseSettings } from './database/database.settings';
import { EventsModule } from './events/events.module';
import { EventsSettings } from './events/events.settings';
import { HealthModule } from './health/health.module';
import { InventoryModule } from './inventory/inventory.module';
import { LiveMigrationModule } from './live-migration/live-migration.module';
import { LiveMigrationSettings } from './live-migration/live-migration.settings';
import { PoliciesSettings } from './policies/policies.settings';
import { MaintenanceModule } from './maintenance/maintenance.module';
import { SamplesModule } from './samples/samples.module';
import { SamplesSettings } from './samples/samples.settings';
import { PoliciesModule } from './policies/policies.module';
import { RecommendationsModule } from './recommendations/recommendations.module';
import { ReplicasModule } from './replicas/replicas.module';
import { ReplicasSettings } from './replicas/replicas.settings';
import { RulesModule } from './rules/rules.module';
import { SecretsModule } from './secrets/secrets.module';
import { SecretsSettings } from './secrets/secrets.settings';
import { PassesModule } from './passes/passes.module';
import { PassesSettings } from './passes/passes.settings';
import { ObservabilityModule } from './observability/observability.module';
import { ClusterMetricsModule } from './cluster-metrics/cluster-metrics.module';
import { ConnectorsModule } from './connectors/connectors.module';
import { ConnectorsSettings } from './connectors/connectors.settings';
import { SimulatorModule } from './simulator/simulator.module';
import { SimulatorSettings } from './simulator/simulator.settings';

/** The settings section of every module, validated together at boot: one message lists every bad variable. */
export const APP_SETTINGS = [
  ServerSettings,
  DatabaseSettings,
  SecretsSettings,
  EventsSettings,
  SamplesSettings,
  BalancerSettings,
  PassesSettings,
  SimulatorSettings,
  PoliciesSettings,
  LiveMigrationSettings,
  ConnectorsSettings,
  ReplicasSettings,
] as const;

@Module({})
export class AppModule {
  /** `overrides` win over the environment: tests pass a temporary database path this way. */
  static forRoot(overrides: Partial<Record<VariableName<typeof APP_SETTINGS>, unknown>> = {}): DynamicModule {
    return {
      module: AppModule,
      imports: [
        SettingsModule.forRoot(APP_SETTINGS, overrides),
        LoggerModule.forRootAsync({
          inject: [ServerSettings],
          useFactory: (server: ServerSettings) => ({
            pinoHttp: {
              level: server.LOG_LEVEL,
              // Nothing logs a connector's credentials; should an object carrying them reach a log line, they are masked.
              redact: ['req.headers.authorization', 'req.headers.cookie', 'credentials', '*.credentials', 'password', '*.password'],
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
        ReplicasModule,
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
        ConnectorsModule,
      ],
      providers: [{ provide: APP_FILTER, useClass: ProblemFilter }],
    };
  }
}
