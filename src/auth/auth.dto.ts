import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsEmail, IsNotEmpty, IsOptional, IsString, MaxLength, MinLength } from 'class-validator';
import { WorkspaceResponse } from '../workspaces/workspaces.dto.js';
import type { UserEntity } from '../users/user.entity.js';

const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);
const normaliseEmail = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim().toLowerCase() : value);

export const PASSWORD_MIN = 10;
// argon2 takes any length; a cap keeps a hostile 1 MB password from costing a hash of 1 MB.
export const PASSWORD_MAX = 256;

export class LoginDto {
  @ApiProperty({ example: 'owner@example.com' })
  @Transform(normaliseEmail)
  @IsEmail({}, { message: 'email must be a valid email address' })
  @MaxLength(254)
  email: string;

  @ApiProperty({ minLength: 1, maxLength: PASSWORD_MAX })
  @IsString()
  @IsNotEmpty()
  @MaxLength(PASSWORD_MAX)
  password: string;
}

export class SignupDto {
  @ApiProperty({ example: 'owner@example.com' })
  @Transform(normaliseEmail)
  @IsEmail({}, { message: 'email must be a valid email address' })
  @MaxLength(254)
  email: string;

  @ApiProperty({ minLength: PASSWORD_MIN, maxLength: PASSWORD_MAX })
  @IsString()
  @MinLength(PASSWORD_MIN, { message: `password must be at least ${PASSWORD_MIN} characters` })
  @MaxLength(PASSWORD_MAX)
  password: string;

  @ApiPropertyOptional({ maxLength: 100 })
  @IsOptional()
  @Transform(trim)
  @IsString()
  @MaxLength(100)
  name?: string;

  @ApiProperty({ maxLength: 100, example: 'Acme Bakery' })
  @Transform(trim)
  @IsString()
  @IsNotEmpty()
  @MaxLength(100)
  workspaceName: string;
}

export class RefreshDto {
  @ApiProperty({ description: 'The refresh token from login, signup or the previous refresh' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  refreshToken: string;
}

export class UserResponse {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() email: string;
  @ApiProperty({ type: String, nullable: true }) name: string | null;
  @ApiProperty() createdAt: string;
}

export class TokensResponse {
  @ApiProperty({ description: 'JWT for "Authorization: Bearer"' }) accessToken: string;
  @ApiProperty({ description: 'Seconds until the access token expires' }) expiresIn: number;
  @ApiProperty({ description: 'Single use: each refresh returns a new one' }) refreshToken: string;
}

export class SignupResponse extends TokensResponse {
  @ApiProperty({ type: UserResponse }) user: UserResponse;
  @ApiProperty({ type: WorkspaceResponse }) workspace: WorkspaceResponse;
}

export class LoginResponse extends TokensResponse {
  @ApiProperty({ type: UserResponse }) user: UserResponse;
  @ApiProperty({ type: [WorkspaceResponse] }) workspaces: WorkspaceResponse[];
}

export class MeResponse {
  @ApiProperty({ type: UserResponse }) user: UserResponse;
  @ApiProperty({ type: [WorkspaceResponse] }) workspaces: WorkspaceResponse[];
}

export function toUserResponse(u: Omit<UserEntity, 'passwordHash'>): UserResponse {
  return { id: u.id, email: u.email, name: u.name, createdAt: u.createdAt.toISOString() };
}
