import { Module } from '@nestjs/common';
import { DomainEventsModule } from '../domain-events/domain-events.module.js';
import { ContactsExportController } from './contacts-export.controller.js';
import { ContactsExportRepository } from './contacts-export.repository.js';
import { ContactsExportService } from './contacts-export.service.js';
import { ContactsImportController, CsvBodyParser } from './contacts-import.controller.js';
import { ContactsImportRepository } from './contacts-import.repository.js';
import { ContactsImportService } from './contacts-import.service.js';
import { ContactsWriteRepository } from './contacts-write.repository.js';
import { ContactsController } from './contacts.controller.js';
import { ContactsRepository } from './contacts.repository.js';
import { ContactsService } from './contacts.service.js';

@Module({
  imports: [DomainEventsModule],
  controllers: [ContactsController, ContactsImportController, ContactsExportController],
  providers: [
    ContactsWriteRepository,
    ContactsRepository,
    ContactsService,
    CsvBodyParser,
    ContactsImportRepository,
    ContactsImportService,
    ContactsExportRepository,
    ContactsExportService,
  ],
  exports: [ContactsWriteRepository],
})
export class ContactsModule {}
