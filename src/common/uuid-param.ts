import { Param, ParseUUIDPipe } from '@nestjs/common';
import { ValidationException } from './problem.js';

/** A path id that must be a UUID; anything else is a 400 naming the parameter. */
export const UuidParam = (name: string): ParameterDecorator =>
  Param(
    name,
    new ParseUUIDPipe({ exceptionFactory: () => new ValidationException([{ field: name, message: `${name} must be a UUID` }]) }),
  );
