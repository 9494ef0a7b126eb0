import { ValidationPipe, type ValidationError } from '@nestjs/common';
import { ValidationException, type FieldError } from './problem.js';

export function flattenValidationErrors(errors: ValidationError[], parent = ''): FieldError[] {
  return errors.flatMap((e) => {
    const field = parent ? `${parent}.${e.property}` : e.property;
    const own = Object.values(e.constraints ?? {}).map((message) => ({
      field,
      // class-validator says "property x should not exist" for unknown fields; say it plainly.
      message: message.endsWith('should not exist') ? 'unknown field' : message,
    }));
    return [...own, ...flattenValidationErrors(e.children ?? [], field)];
  });
}

export const VALIDATION_OPTIONS = {
  whitelist: true,
  forbidNonWhitelisted: true,
  forbidUnknownValues: true,
  transform: true,
  validationError: { target: false, value: false },
} as const;

/** Unknown fields are a 400, not silently dropped; every bad field is named. */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    ...VALIDATION_OPTIONS,
    exceptionFactory: (errors) => new ValidationException(flattenValidationErrors(errors)),
  });
}
