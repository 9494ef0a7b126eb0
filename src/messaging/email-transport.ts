export interface EmailMessage {
  to: string;
  from: string;
  subject: string;
  text: string;
  html: string;
}

/** One way of delivering email. Returns the provider's message id when it gives one. */
export interface EmailTransport {
  readonly name: string;
  send(message: EmailMessage): Promise<string | null>;
}

export const EMAIL_TRANSPORT = Symbol('EMAIL_TRANSPORT');
