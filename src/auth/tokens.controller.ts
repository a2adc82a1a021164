import { Body, Controller, Delete, Get, Post, Query } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiProperty,
  ApiPropertyOptional,
  ApiTags,
} from '@nestjs/swagger';
import { IsIn } from 'class-validator';
import { DomainError, ErrorCode } from '../common/domain-error';
import { IdParam } from '../common/id.pipe';
import { PageOf } from '../common/page-view';
import { PageQuery } from '../common/pagination';
import { IsName, Optional } from '../common/validators';
import { Actor } from '../events/actor';
import { RequestActor } from './request-actor';
import { Role, ROLES } from './api-token.entity';
import { RequiresRole } from './auth.guard';
import { TokensService } from './tokens.service';

export class CreateTokenDto {
  @ApiProperty({
    enum: ROLES,
    description: '`viewer` reads; `operator` also applies, migrates, syncs, ingests and sets policies; `admin` also manages tokens',
  })
  @IsIn(ROLES)
  role: Role;

  @ApiPropertyOptional({ description: 'What the token is for, e.g. "prometheus" or "ci"', maxLength: 200 })
  @Optional()
  @IsName()
  name?: string;
}

export class TokenView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty({ enum: ROLES }) role: Role;
  @ApiProperty({ description: 'Epoch ms' }) createdAt: number;
  @ApiProperty({ description: 'Epoch ms', nullable: true, type: Number }) revokedAt: number | null;
}

export class CreatedTokenView extends TokenView {
  @ApiProperty({ description: 'The bearer token, shown only in this answer: store it now' }) token: string;
}

@ApiTags('tokens')
@RequiresRole('admin')
@Controller('tokens')
export class TokensController {
  constructor(private readonly tokens: TokensService) {}

  /**
   * A new API token. Its value is in this answer only; the service keeps a keyed hash. Refused while no
   * token exists: the first is made with the CLI on the database file, never by whoever reaches the port.
   */
  @Post()
  @ApiCreatedResponse({ type: CreatedTokenView })
  @ApiForbiddenResponse({ description: 'No token exists yet: make the first with `npm run token -- create --role admin`' })
  async create(@Body() dto: CreateTokenDto, @RequestActor() actor: Actor): Promise<CreatedTokenView> {
    if (!(await this.tokens.required())) {
      throw new DomainError(
        ErrorCode.Forbidden,
        'No API token exists, so tokens are made only with the CLI on the database file: `npm run token -- create --role admin`; then use that token here',
      );
    }
    return this.tokens.create(dto.role, dto.name ?? `${dto.role} token`, actor);
  }

  /** Every token, without its value. */
  @Get()
  @ApiOkResponse({ type: PageOf(TokenView) })
  list(@Query() query: PageQuery) {
    return this.tokens.list(query.limit, query.offset);
  }

  /** Revokes a token at once; it stays listed with its revocation time. */
  @Delete(':id')
  @ApiOkResponse({ type: TokenView })
  @ApiNotFoundResponse()
  revoke(@IdParam() id: string, @RequestActor() actor: Actor): Promise<TokenView> {
    return this.tokens.revoke(id, actor);
  }
}
