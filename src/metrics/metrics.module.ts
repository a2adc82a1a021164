import { Module } from '@nestjs/common';
import { DemandService } from './demand.service';
import { MetricsController } from './metrics.controller';
import { RetentionService } from './retention.service';
import { SamplesService } from './samples.service';

@Module({
  controllers: [MetricsController],
  providers: [SamplesService, DemandService, RetentionService],
  exports: [SamplesService, DemandService, RetentionService],
})
export class MetricsModule {}
