import { Body, Controller, Get, HttpCode, Ip, Post, Req, UseGuards } from '@nestjs/common';
import { ApiBody, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags, ApiTooManyRequestsResponse } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { Authenticated, Public } from '../common/access.decorators.js';
import type { Principal } from '../common/auth-context.js';
import { CurrentUserId } from '../common/current.decorators.js';
import { LoginDto, LoginResponse, MeResponse, RefreshDto, SignupDto, SignupResponse, TokensResponse } from './auth.dto.js';
import { AuthService } from './auth.service.js';
import { LocalAuthGuard } from './local-auth.guard.js';

@ApiTags('auth')
@Controller('v1')
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  @Post('auth/signup')
  @Public()
  @ApiOperation({ summary: 'Create an account and its first workspace (you are its owner)' })
  @ApiCreatedResponse({ type: SignupResponse })
  @ApiTooManyRequestsResponse({ description: 'Too many signups from this IP (Retry-After)' })
  signup(@Body() dto: SignupDto, @Ip() ip: string): Promise<SignupResponse> {
    return this.auth.signup(dto, ip);
  }

  @Post('auth/login')
  @HttpCode(200)
  @Public()
  @UseGuards(LocalAuthGuard)
  @ApiOperation({ summary: 'Sign in with email and password' })
  @ApiBody({ type: LoginDto })
  @ApiOkResponse({ type: LoginResponse })
  @ApiTooManyRequestsResponse({ description: 'Too many attempts for this IP or account (Retry-After)' })
  login(@Req() req: FastifyRequest): Promise<LoginResponse> {
    return this.auth.login((req.user as Extract<Principal, { kind: 'user' }>).userId);
  }

  @Post('auth/refresh')
  @HttpCode(200)
  @Public()
  @ApiOperation({ summary: 'Trade a refresh token for new tokens; a reused one signs the session out' })
  @ApiOkResponse({ type: TokensResponse })
  refresh(@Body() dto: RefreshDto): Promise<TokensResponse> {
    return this.auth.refresh(dto.refreshToken);
  }

  @Post('auth/logout')
  @HttpCode(204)
  @Public()
  @ApiOperation({ summary: 'End the session of this refresh token; access tokens lapse within their TTL' })
  @ApiNoContentResponse()
  logout(@Body() dto: RefreshDto): Promise<void> {
    return this.auth.logout(dto.refreshToken);
  }

  @Get('me')
  @Authenticated()
  @ApiOkResponse({ type: MeResponse })
  me(@CurrentUserId() userId: string): Promise<MeResponse> {
    return this.auth.me(userId);
  }
}
