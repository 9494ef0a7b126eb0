import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { UserEntity } from './user.entity.js';
import { UsersRepository } from './users.repository.js';

@Module({ imports: [TypeOrmModule.forFeature([UserEntity])], providers: [UsersRepository], exports: [UsersRepository] })
export class UsersModule {}
