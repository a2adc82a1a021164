import { Controller, Get, Post, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { IdParam } from '../common/id.pipe';
import { PageQuery } from '../common/pagination';
import { Actor } from '../events/actor';
import { RequestActor } from '../auth/request-actor';
import { SchedulerService } from './scheduler.service';

@ApiTags('scheduler')
@Controller('clusters/:id/passes')
export class PassesController {
  constructor(private readonly scheduler: SchedulerService) {}

  /** Runs a balancing pass now (after any pass of the cluster in progress) and returns its record. */
  @Post()
  runNow(@IdParam() id: string, @RequestActor() actor: Actor) {
    return this.scheduler.runPass(id, 'manual', actor);
  }

  /** Newest first: trigger, imbalance before and predicted after, moves recommended, applied, skipped and why. */
  @Get()
  list(@IdParam() id: string, @Query() page: PageQuery) {
    return this.scheduler.listPasses(id, page.limit, page.offset);
  }
}
