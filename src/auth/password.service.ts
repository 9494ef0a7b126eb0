import { Injectable, type OnModuleInit } from '@nestjs/common';
import { argon2id, argon2Verify } from 'hash-wasm';
import { randomBytes } from 'node:crypto';

// OWASP's argon2id baseline (19 MiB, 2 passes, 1 lane). WebAssembly, not a native addon: the
// argon2 package's prebuilt binary crashes on some Node builds, and compiling needs a toolchain.
const PARAMS = { parallelism: 1, iterations: 2, memorySize: 19_456, hashLength: 32 } as const;

@Injectable()
export class PasswordService implements OnModuleInit {
  // Verified against when the email is unknown, so both failures take the same time.
  private dummyHash = '';

  async onModuleInit(): Promise<void> {
    this.dummyHash = await this.hash('leadnest-timing-equaliser');
  }

  hash(password: string): Promise<string> {
    return argon2id({ ...PARAMS, password, salt: randomBytes(16), outputType: 'encoded' });
  }

  async verify(hash: string | undefined, password: string): Promise<boolean> {
    try {
      const ok = await argon2Verify({ password, hash: hash ?? this.dummyHash });
      return ok && hash !== undefined;
    } catch {
      return false;
    }
  }
}
