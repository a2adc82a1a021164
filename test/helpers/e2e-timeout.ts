// Every e2e file boots the app in a hook, which takes longer than jest's default 5 s on a loaded machine (seen at
// a load of 25 on two cores). A limit on how fast something must be is an assertion in its own test, never this;
// files that need longer still set their own.
jest.setTimeout(60_000);
