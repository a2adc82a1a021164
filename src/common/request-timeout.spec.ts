import express from 'express';
import request from 'supertest';
import { requestTimeout } from './request-timeout';

describe('requestTimeout', () => {
  function app(limitMs: number, answerAfterMs: number, late: jest.Mock) {
    const server = express();
    server.use(requestTimeout(limitMs));
    server.get('/work', (_req, res) => {
      setTimeout(() => {
        try {
          res.json({ done: true });
          late(null);
        } catch (err) {
          late(err);
        }
      }, answerAfterMs);
    });
    return server;
  }

  it('answers 503 problem+json with Retry-After when the route has not answered in time, and drops its late answer quietly', async () => {
    const late = jest.fn();
    const res = await request(app(50, 250, late)).get('/work?x=1');
    expect(res.status).toBe(503);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.headers['retry-after']).toBe('2');
    expect(res.body).toMatchObject({ status: 503, title: 'Service Unavailable', instance: '/work' });
    expect(res.body.detail).toMatch(/took longer than 0.05 s/);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(late).toHaveBeenCalledWith(null);
  });

  it('leaves a route that answers in time alone, and its timer does not outlive the answer', async () => {
    const late = jest.fn();
    const setTimer = jest.spyOn(global, 'setTimeout');
    const clearTimer = jest.spyOn(global, 'clearTimeout');
    const res = await request(app(5000, 10, late)).get('/work');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ done: true });
    const timeoutTimer = setTimer.mock.results[setTimer.mock.calls.findIndex(([, ms]) => ms === 5000)].value;
    expect(clearTimer).toHaveBeenCalledWith(timeoutTimer);
  });

  afterEach(() => jest.restoreAllMocks());
});
