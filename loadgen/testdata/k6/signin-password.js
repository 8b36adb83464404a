// Sign-in with a password, as ciamcheck's signin-password flow runs it
// (scenarios/signin.go): initiate, challenge, token with the password, then
// one refresh. Open model: a constant arrival rate, each arrival one flow.
// BenchmarkK6Comparison (loadgen/k6_bench_test.go) runs it against its
// canned server, side by side with ciamcheck, when k6 is on PATH:
//
//   k6 run --quiet -e BASE_URL=http://127.0.0.1:PORT/TENANT.onmicrosoft.com \
//     -e CLIENT_ID=ID -e RATE=1000 -e DURATION=10s -e USERS=1000 \
//     -e SUMMARY_FILE=summary.json loadgen/testdata/k6/signin-password.js
//
// The form fields are those ciamcheck sends (TestK6ScriptSendsTheFlowsForms
// holds the two together). The users are user-N@example.com with one
// password, as in the benchmark's pool.
import http from 'k6/http';
import exec from 'k6/execution';
import { check } from 'k6';
import { Counter } from 'k6/metrics';

const base = __ENV.BASE_URL;
const clientID = __ENV.CLIENT_ID;
const users = parseInt(__ENV.USERS || '1000', 10);
const password = __ENV.PASSWORD || 'canned-Passw0rd!';
const scope = 'openid offline_access';

// Flows that ran all four steps as expected: iterations minus these are
// the flows that failed.
const completed = new Counter('flows_completed');

export const options = {
  summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)'],
  scenarios: {
    signin_password: {
      executor: 'constant-arrival-rate',
      rate: parseInt(__ENV.RATE || '1000', 10),
      timeUnit: '1s',
      duration: __ENV.DURATION || '10s',
      preAllocatedVUs: parseInt(__ENV.PREALLOCATED_VUS || '200', 10),
      maxVUs: parseInt(__ENV.MAX_VUS || '10000', 10),
    },
  },
};

// post sends form as application/x-www-form-urlencoded (k6 encodes an
// object body so) and returns the JSON answer, or null unless it is a 200.
function post(endpoint, form) {
  const res = http.post(`${base}${endpoint}`, form);
  if (!check(res, { [`${endpoint} 200`]: (r) => r.status === 200 })) {
    return null;
  }
  return res.json();
}

export default function () {
  const username = `user-${exec.scenario.iterationInTest % users}@example.com`;
  const initiate = post('/oauth2/v2.0/initiate', {
    client_id: clientID,
    username: username,
    challenge_type: 'password redirect',
  });
  if (!initiate || !initiate.continuation_token) {
    return;
  }
  const challenge = post('/oauth2/v2.0/challenge', {
    client_id: clientID,
    continuation_token: initiate.continuation_token,
    challenge_type: 'password redirect',
  });
  if (!challenge || !check(challenge, { 'challenge_type password': (c) => c.challenge_type === 'password' })) {
    return;
  }
  const token = post('/oauth2/v2.0/token', {
    client_id: clientID,
    grant_type: 'password',
    continuation_token: challenge.continuation_token,
    password: password,
    scope: scope,
  });
  if (!token || !check(token, { 'access_token': (t) => !!t.access_token })) {
    return;
  }
  if (token.refresh_token) {
    const refreshed = post('/oauth2/v2.0/token', {
      client_id: clientID,
      grant_type: 'refresh_token',
      refresh_token: token.refresh_token,
      scope: scope,
    });
    if (!refreshed || !refreshed.access_token) {
      return;
    }
  }
  completed.add(1);
}

// handleSummary writes the end-of-test summary (the data object, whose
// metrics carry their figures under "values") where SUMMARY_FILE says, so
// that the benchmark needs no flag that k6 versions differ on; without
// SUMMARY_FILE it prints it.
export function handleSummary(data) {
  const out = JSON.stringify(data, null, 2);
  if (__ENV.SUMMARY_FILE) {
    return { [__ENV.SUMMARY_FILE]: out };
  }
  return { stdout: out };
}
