import { Module } from '@nestjs/common';
import { DemandService } from './demand.service';
import { SamplesController } from './samples.controller';
import { RetentionService } from './retention.service';
import { SamplePartitions } from './sample-partitions.service';
import { SamplesService } from './samples.service';

@Module({
  controllers: [SamplesController],
  providers: [SamplesService, DemandService, RetentionService, SamplePartitions],
  exports: [SamplesService, DemandService, RetentionService],
})
export class SamplesModule {}
