import { Body, Controller, Get, HttpCode, Post, Query, Res } from '@nestjs/common';
import { ApiOkResponse, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { RequiresRole } from '../auth/auth.guard';
import { IdParam } from '../common/id.pipe';
import { SendsJsonText } from '../common/json-page';
import { BalancerService } from './balancer.service';
import { BalanceQueryDto, BalancingPolicyDto } from '../policies/balancing-policy.dto';
import { BalanceView } from './dto/balance.view';
import { PlacementRequestDto } from './dto/placement.dto';
import { PlanRequest } from './plan-runner';

/** A what-if for the planner queue, dropped when its client goes away (the answer is sent or the connection closed). */
function whatIf(res: Response): PlanRequest {
  const gone = new AbortController();
  res.once('close', () => gone.abort());
  return { priority: 'what-if', signal: gone.signal };
}

const BUSY = 'The planner queue is full (Retry-After says when to try again), or the what-if ran over its time budget';

@ApiTags('balancer')
@Controller('clusters/:id')
export class BalancerController {
  constructor(private readonly balancer: BalancerService) {}

  /**
   * Per-host utilization, σ per resource, the imbalance I against its target, contention (the VM demand
   * the hosts cannot serve, and the cluster score), the VMs their platform holds, and the inputs behind them.
   */
  @Get('balance')
  @SendsJsonText()
  @ApiOkResponse({ type: BalanceView, description: 'The cluster balance report' })
  balance(@IdParam() id: string, @Query() query: BalanceQueryDto) {
    return this.balancer.balanceJson(id, query);
  }

  /**
   * A dry run: the moves the balancer would make now, in order, with reasons, and the predicted result. Nothing changes.
   * It waits behind evacuations and passes, in a bounded queue, and has a time budget.
   */
  @Post('plan')
  @HttpCode(200)
  @RequiresRole('viewer')
  @ApiServiceUnavailableResponse({ description: BUSY })
  plan(@IdParam() id: string, @Body() overrides: BalancingPolicyDto, @Res({ passthrough: true }) res: Response) {
    return this.balancer.plan(id, overrides, whatIf(res));
  }

  /** The hosts ranked for a new VM of the given size and groups, and why the others are ruled out. */
  @Post('placement')
  @HttpCode(200)
  @RequiresRole('viewer')
  @ApiServiceUnavailableResponse({ description: BUSY })
  placement(@IdParam() id: string, @Body() request: PlacementRequestDto, @Res({ passthrough: true }) res: Response) {
    return this.balancer.placement(id, request, whatIf(res));
  }
}
