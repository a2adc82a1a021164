// The data source of the TypeORM CLI (npm run migration:*); the app builds its own in DatabaseModule.
// Kept apart from dataSourceOptions so that importing those reads no environment.
import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { loadSettings } from '../config/settings';
import { dataSourceOptions, dataSourceSettings } from './data-source-options';
import { DatabaseSettings } from './database.settings';

const [database] = loadSettings([DatabaseSettings], process.env);
export default new DataSource(dataSourceOptions(dataSourceSettings(database)));
