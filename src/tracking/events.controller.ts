import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { KeyAuthenticated } from '../common/access.decorators.js';
import { KeyWorkspace } from '../common/current.decorators.js';
import { EventBatchDto, EventBatchResponse } from './events.dto.js';
import { EventsService } from './events.service.js';

@ApiTags('public')
@Controller('v1/public/events')
export class EventsController {
  constructor(private readonly events: EventsService) {}

  @Post()
  @HttpCode(202)
  @KeyAuthenticated()
  @ApiOperation({
    summary: 'Record a batch of up to 100 events (page_view, form_view, custom) with a publishable key',
    description:
      'Events of a known contact (named with a secret key, or an anonymous id linked by a signup) also drive funnel stages. ' +
      'Server-side names (form.submitted, contact.confirmed, tag.added, email.opened, email.clicked, sms.replied, payment.succeeded, ' +
      'contact.stage_changed) do so only when a secret key sent them: a publishable key is public.',
  })
  // Validated by parseEventBatch (hand-written, same rules as EventBatchDto): the body is typed `unknown`
  // so the global ValidationPipe, costly on 100 nested objects, leaves it alone.
  @ApiBody({ type: EventBatchDto })
  @ApiAcceptedResponse({ type: EventBatchResponse })
  ingest(@KeyWorkspace() key: { workspaceId: string; secret: boolean }, @Body() body: unknown): Promise<EventBatchResponse> {
    return this.events.ingest(key, body);
  }
}
