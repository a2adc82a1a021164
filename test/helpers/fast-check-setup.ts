// Property tests (fast-check) in every jest project.
// - FC_SEED, as a failure prints it, replays that failure.
// - CI=true runs one fixed seed: a landing must not hinge on luck. Elsewhere each run explores a new one.
import fc from 'fast-check';

const seed = process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : process.env.CI ? 20261130 : undefined;
if (seed !== undefined) fc.configureGlobal({ seed });
