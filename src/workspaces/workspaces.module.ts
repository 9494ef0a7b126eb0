import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { UsersModule } from '../users/users.module.js';
import { ApiKeysController } from './api-keys.controller.js';
import { ApiKeysRepository } from './api-keys.repository.js';
import { ApiKeysService } from './api-keys.service.js';
import { InvitationsRepository } from './invitations.repository.js';
import { MembersController } from './members.controller.js';
import { MembersService } from './members.service.js';
import { ApiKeyEntity, InvitationEntity, MembershipEntity, WorkspaceEntity } from './workspace.entities.js';
import { WorkspacesController } from './workspaces.controller.js';
import { WorkspacesRepository } from './workspaces.repository.js';
import { WorkspacesService } from './workspaces.service.js';

@Module({
  imports: [TypeOrmModule.forFeature([WorkspaceEntity, MembershipEntity, InvitationEntity, ApiKeyEntity]), UsersModule],
  controllers: [WorkspacesController, MembersController, ApiKeysController],
  providers: [WorkspacesRepository, InvitationsRepository, ApiKeysRepository, WorkspacesService, MembersService, ApiKeysService],
  exports: [WorkspacesService, ApiKeysService, WorkspacesRepository],
})
export class WorkspacesModule {}
