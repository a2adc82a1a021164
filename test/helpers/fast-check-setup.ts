// Property tests (fast-check) in every jest project.
// - FC_SEED and FC_PATH, as a failure prints them, replay that failure without shrinking it again.
// - CI=true runs one fixed seed: a landing must not hinge on luck. Elsewhere each run explores a new one.
import fc from 'fast-check';

if (process.env.FC_SEED !== undefined) {
  fc.configureGlobal({ seed: Number(process.env.FC_SEED), path: process.env.FC_PATH, endOnFailure: process.env.FC_PATH !== undefined });
} else if (process.env.CI) {
  fc.configureGlobal({ seed: 20261130 });
}
