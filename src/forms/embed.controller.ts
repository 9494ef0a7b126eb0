import { Controller, Get, Headers, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { Public } from '../common/access.decorators.js';

export const EMBED_SCRIPT_URL = new URL('./embed/leadnest-embed.js', import.meta.url);

/**
 * The embed as a browser can run it. `npm run build` re-emits the file as an ES module (NodeNext makes
 * every file a module, so tsc appends `export {};`), which a classic <script> refuses: that line and the
 * source-map comment are dropped.
 */
export function classicScript(text: string): string {
  return text.replace(/^export \{\};\s*$/m, '').replace(/^\/\/# sourceMappingURL=.*$/m, '').trimEnd() + '\n';
}

interface EmbedAsset {
  plain: Buffer;
  gzip: Buffer;
  etag: string;
}

function loadEmbed(): EmbedAsset {
  const plain = Buffer.from(classicScript(readFileSync(EMBED_SCRIPT_URL, 'utf8')));
  // Weak: the plain and gzip bodies are the same script.
  const etag = `W/"${createHash('sha256').update(plain).digest('base64url').slice(0, 27)}"`;
  return { plain, gzip: gzipSync(plain, { level: 9 }), etag };
}

const matches = (ifNoneMatch: string | undefined, etag: string): boolean =>
  ifNoneMatch !== undefined && ifNoneMatch.split(',').some((t) => t.trim() === etag || t.trim() === '*');

@ApiTags('public')
@Controller()
export class EmbedController {
  // Read and compressed once at startup.
  private readonly asset = loadEmbed();

  @Get('embed.js')
  @Public()
  @ApiOperation({
    summary: 'The embeddable signup form',
    description: 'Paste `<script src="…/embed.js" data-form="FORM_ID" async></script>` or `<div data-leadnest-form="FORM_ID"></div>` plus the script.',
  })
  @ApiProduces('application/javascript')
  @ApiOkResponse({ description: 'JavaScript (gzip when accepted); 304 when If-None-Match matches' })
  serve(
    @Headers('if-none-match') ifNoneMatch: string | undefined,
    @Headers('accept-encoding') acceptEncoding: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Buffer | string {
    const { plain, gzip, etag } = this.asset;
    void reply
      .header('content-type', 'application/javascript; charset=utf-8')
      .header('cache-control', 'public, max-age=300')
      .header('etag', etag)
      .header('vary', 'accept-encoding');
    if (matches(ifNoneMatch, etag)) {
      void reply.status(304);
      return '';
    }
    if (/\bgzip\b/.test(acceptEncoding ?? '')) {
      void reply.header('content-encoding', 'gzip');
      return gzip;
    }
    return plain;
  }
}
