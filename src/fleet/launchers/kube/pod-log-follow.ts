/**
 * Following a pod backend's log through the API (`logs -f`, GET .../logs?follow=1): the kernel
 * container's log with follow=true, which the API ends when the container ends (the pod ends
 * or is deleted). Plain https with the kubeconfig's TLS and credentials, not client-node's Log:
 * that one makes an aborted stream emit an error nobody can listen to, and a follower that
 * leaves must not take the manager down.
 */
import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { KubeAccess } from '../../types.js';
import { kubeClient } from './api.js';
import { KERNEL_CONTAINER } from './spec.js';

export interface PodLogRef extends KubeAccess {
  namespace: string;
  pod: string;
}

/** Pure: the API path that follows the kernel container's log from `tail` lines back (0: only what comes). */
export function podLogPath(ref: PodLogRef, tail: number): string {
  const query = new URLSearchParams({ container: KERNEL_CONTAINER, follow: 'true', tailLines: String(Math.max(0, Math.floor(tail))) });
  return `/api/v1/namespaces/${encodeURIComponent(ref.namespace)}/pods/${encodeURIComponent(ref.pod)}/log?${query}`;
}

async function refusal(res: IncomingMessage, ref: PodLogRef): Promise<Error> {
  let body = '';
  for await (const chunk of res) body += String(chunk);
  let message = body.trim();
  try {
    message = String((JSON.parse(body) as { message?: unknown }).message ?? message);
  } catch {
    // not a Status object: its text is the message
  }
  return new Error(`the Kubernetes API refused following the log of pod ${ref.namespace}/${ref.pod} (HTTP ${res.statusCode}: ${message}); check the account may get pods/log (examples/kubernetes/rbac.yaml)`);
}

/**
 * Writes each chunk the kernel container logs, from `tail` lines back, until the API ends the
 * stream (the container ended), the pod is gone (404: nothing to follow), or `signal` aborts.
 * Rejects only when the API cannot be reached or refuses.
 */
export async function followPodLog(ref: PodLogRef, tail: number, signal: AbortSignal, write: (chunk: Buffer) => void): Promise<void> {
  const { kc } = await kubeClient(ref);
  const cluster = kc.getCurrentCluster();
  if (cluster === null) throw new Error(`no Kubernetes cluster in the kubeconfig for pod ${ref.namespace}/${ref.pod}`);
  const url = new URL(cluster.server.replace(/\/$/, '') + podLogPath(ref, tail));
  const options: RequestOptions = { method: 'GET', headers: {} };
  await kc.applyToHTTPSOptions(options);
  if (signal.aborted) return;
  await new Promise<void>((resolve, reject) => {
    const request = url.protocol === 'http:' ? httpRequest : httpsRequest;
    const req = request(url, options, (res) => {
      if (res.statusCode === 404) {
        res.resume();
        done();
      } else if (res.statusCode !== 200) {
        void refusal(res, ref).then(fail, fail);
      } else {
        res.on('data', (chunk: Buffer) => write(chunk));
        res.once('end', done);
        res.once('close', done);
        res.once('error', done);
      }
    });
    req.once('error', (error) => (signal.aborted ? done() : fail(error)));
    const onAbort = (): void => {
      req.destroy();
      done();
    };
    signal.addEventListener('abort', onAbort, { once: true });
    req.end();
    function done(): void {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }
    function fail(error: Error): void {
      signal.removeEventListener('abort', onAbort);
      req.destroy();
      reject(error);
    }
  });
}
