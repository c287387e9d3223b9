/**
 * zeromq, loaded with require. zeromq, pino and commander are CommonJS, and importing CommonJS
 * from an ES module cost a router about 20 ms more CPU at start-up than requiring it (Node 20,
 * measured for issue #12). Each socket class is both a value and a type here, so that
 * `import * as zmq from './zmq.js'` reads like `import * as zmq from 'zeromq'`.
 */
import { createRequire } from 'node:module';
import type * as ZeroMQ from 'zeromq';

const lib = createRequire(import.meta.url)('zeromq') as typeof ZeroMQ;

export const Dealer = lib.Dealer;
export type Dealer = ZeroMQ.Dealer;
export const Subscriber = lib.Subscriber;
export type Subscriber = ZeroMQ.Subscriber;
export const Router = lib.Router;
export type Router = ZeroMQ.Router;
export const XPublisher = lib.XPublisher;
export type XPublisher = ZeroMQ.XPublisher;
export const Reply = lib.Reply;
export type Reply = ZeroMQ.Reply;
export const Request = lib.Request;
export type Request = ZeroMQ.Request;
export type Socket = ZeroMQ.Socket;
export const capability = lib.capability;
export const curveKeyPair = lib.curveKeyPair;
export const version = lib.version;
