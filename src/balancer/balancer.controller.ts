import { Body, Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { RequiresRole } from '../auth/auth.guard';
import { IdParam } from '../common/id.pipe';
import { SendsJsonText } from '../common/json-page';
import { BalancerService } from './balancer.service';
import { BalanceQueryDto, BalancingPolicyDto } from './dto/balancing-policy.dto';
import { PlacementRequestDto } from './dto/placement.dto';

@ApiTags('balancer')
@Controller('clusters/:id')
export class BalancerController {
  constructor(private readonly balancer: BalancerService) {}

  /** Per-host utilization, σ per resource, the imbalance I against its target, and the inputs behind them. */
  @Get('balance')
  @SendsJsonText()
  @ApiOkResponse({ description: 'The cluster balance report' })
  balance(@IdParam() id: string, @Query() query: BalanceQueryDto) {
    return this.balancer.balanceJson(id, query);
  }

  /** A dry run: the moves the balancer would make now, in order, with reasons, and the predicted result. Nothing changes. */
  @Post('plan')
  @HttpCode(200)
  @RequiresRole('viewer')
  plan(@IdParam() id: string, @Body() overrides: BalancingPolicyDto) {
    return this.balancer.plan(id, overrides);
  }

  /** The hosts ranked for a new VM of the given size and groups, and why the others are ruled out. */
  @Post('placement')
  @HttpCode(200)
  @RequiresRole('viewer')
  placement(@IdParam() id: string, @Body() request: PlacementRequestDto) {
    return this.balancer.placement(id, request);
  }
}
