import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { UserEntity } from './user.entity.js';

// Users are global (not tenant-owned): one person may belong to several workspaces.
@Injectable()
export class UsersRepository {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  /** The profile, without the password hash. */
  async findProfile(id: string): Promise<Omit<UserEntity, 'passwordHash'> | null> {
    const rows = await this.ds.query<Omit<UserEntity, 'passwordHash'>[]>(
      `SELECT id, email, name, created_at AS "createdAt", updated_at AS "updatedAt" FROM users WHERE id = $1`,
      [id],
    );
    return rows[0] ?? null;
  }

  findByEmail(email: string): Promise<UserEntity | null> {
    return this.ds.getRepository(UserEntity).findOneBy({ email });
  }

  /** Inserts a user; returns null when the email is taken (no exception path for a normal outcome). */
  async insert(em: EntityManager, user: Pick<UserEntity, 'email' | 'name' | 'passwordHash'>): Promise<UserEntity | null> {
    const rows = await em.query<UserEntity[]>(
      `INSERT INTO users (email, name, password_hash) VALUES ($1, $2, $3)
       ON CONFLICT (email) DO NOTHING
       RETURNING id, email, name, password_hash AS "passwordHash", created_at AS "createdAt", updated_at AS "updatedAt"`,
      [user.email, user.name, user.passwordHash],
    );
    return rows[0] ?? null;
  }
}
