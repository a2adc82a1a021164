import { Body, Controller, Get, Put } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ApiWriteErrors } from '../common/api-responses';
import { IdParam } from '../common/id.pipe';
import { Actor } from '../events/actor';
import { RequestActor } from '../auth/request-actor';
import { ClusterPolicyView, PutClusterPolicyDto } from './policy.dto';
import { PoliciesService } from './policies.service';

@ApiTags('policies')
@Controller('clusters/:id/policy')
export class PoliciesController {
  constructor(private readonly policies: PoliciesService) {}

  @Get()
  @ApiOkResponse({ type: ClusterPolicyView })
  get(@IdParam() id: string): Promise<ClusterPolicyView> {
    return this.policies.get(id);
  }

  /** Replaces the cluster's policy; what is left out takes its default. Takes effect at once, interval included. */
  @Put()
  @ApiOkResponse({ type: ClusterPolicyView })
  @ApiWriteErrors()
  put(@IdParam() id: string, @Body() dto: PutClusterPolicyDto, @RequestActor() actor: Actor): Promise<ClusterPolicyView> {
    return this.policies.put(id, dto, actor);
  }
}
