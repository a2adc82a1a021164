import { Global, Module } from '@nestjs/common';
import { ClusterOwnership } from './cluster-ownership';
import { ReplicasController } from './replicas.controller';

/** Replicas on a shared database and the leases by which each cluster has one owner (see cluster-ownership.ts). */
@Global()
@Module({
  controllers: [ReplicasController],
  providers: [ClusterOwnership],
  exports: [ClusterOwnership],
})
export class ReplicasModule {}
