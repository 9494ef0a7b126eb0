import { Client } from '@sendgrid/client';
import { MailService } from '@sendgrid/mail';
import type { EmailMessage, EmailTransport } from './email-transport.js';

/** SendGrid's v3 Mail Send through the official SDK; the base URL is configurable (tests, EU region). */
export class SendgridEmailTransport implements EmailTransport {
  readonly name = 'sendgrid';
  private readonly mail: MailService;

  constructor(apiKey: string, baseUrl: string) {
    // Own instances, not the SDK's shared singletons: the key and base URL stay local to this transport.
    const client = new Client();
    client.setApiKey(apiKey);
    client.setDefaultRequest('baseUrl', baseUrl);
    this.mail = new MailService();
    this.mail.setClient(client);
  }

  async send(message: EmailMessage): Promise<string | null> {
    const [response] = await this.mail.send({
      to: message.to,
      from: message.from,
      subject: message.subject,
      text: message.text,
      html: message.html,
      // Confirmation and transactional mail: link tracking would rewrite the confirmation link.
      trackingSettings: { clickTracking: { enable: false, enableText: false } },
    });
    const id = response.headers['x-message-id'];
    return typeof id === 'string' ? id : null;
  }
}
