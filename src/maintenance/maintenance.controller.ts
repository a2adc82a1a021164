import { Controller, Delete, Get, HttpCode, Post } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { IdParam } from '../common/id.pipe';
import { Actor } from '../events/actor';
import { RequestActor } from '../auth/request-actor';
import { MaintenanceService } from './maintenance.service';

@ApiTags('maintenance')
@Controller('hosts/:id/maintenance')
export class MaintenanceController {
  constructor(private readonly maintenance: MaintenanceService) {}

  /**
   * Puts the host in `entering-maintenance` and evacuates it at once; it turns `maintenance` when
   * empty. When it cannot be emptied, the answer names the VMs that block and why.
   */
  @Post()
  @HttpCode(202)
  enter(@IdParam() id: string, @RequestActor() actor: Actor) {
    return this.maintenance.enter(id, actor);
  }

  @Get()
  status(@IdParam() id: string) {
    return this.maintenance.status(id);
  }

  /** Returns the host to service. */
  @Delete()
  exit(@IdParam() id: string, @RequestActor() actor: Actor) {
    return this.maintenance.exit(id, actor);
  }
}
