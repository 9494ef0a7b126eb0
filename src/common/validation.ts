import { ValidationPipe, type ValidationError } from '@nestjs/common';
import { ValidationException, type FieldError } from './problem.js';

export function flattenValidationErrors(errors: ValidationError[], parent = ''): FieldError[] {
  return errors.flatMap((e) => {
    const field = parent ? `${parent}.${e.property}` : e.property;
    const messages = Object.values(e.constraints ?? {});
    // One entry per field: the plainest reason ("unknown field", "is required") or the first rule broken.
    const own: FieldError[] = [];
    if (messages.some((m) => m.endsWith('should not exist'))) own.push({ field, message: 'unknown field' });
    else if (messages.length > 0 && e.value === undefined) own.push({ field, message: `${field} is required` });
    else if (messages.length > 0) own.push({ field, message: messages[0] });
    return [...own, ...flattenValidationErrors(e.children ?? [], field)];
  });
}

export const VALIDATION_OPTIONS = {
  whitelist: true,
  forbidNonWhitelisted: true,
  forbidUnknownValues: true,
  transform: true,
  validationError: { target: false, value: true },
} as const;

/** Unknown fields are a 400, not silently dropped; every bad field is named. */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    ...VALIDATION_OPTIONS,
    exceptionFactory: (errors) => new ValidationException(flattenValidationErrors(errors)),
  });
}
