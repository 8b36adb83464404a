package emulator

import (
	"net/http"

	"github.com/ciamcheck/ciamcheck/emulator/backdoor"
)

func (e *Emulator) bdStats(rc *reqCtx) {
	rc.writeJSON(http.StatusOK, backdoor.Stats{
		LiveFlows:            rc.d.liveFlows.Load(),
		MaxLiveFlows:         rc.t.maxLiveFlows,
		FlowsRefused:         rc.d.flowsRefused.Load(),
		PasscodeLockouts:     rc.d.passcodeLockouts.Load(),
		OTPMaxAttempts:       rc.t.otpMaxAttempts,
		RefreshTokens:        int64(rc.d.refresh.len()),
		MaxRefreshTokens:     int64(rc.t.cfg.Tokens.MaxRefreshTokens),
		RefreshTokensEvicted: rc.d.refresh.evicted.Load(),
		OutboxMessages:       int64(rc.d.outbox.len()),
		OutboxMaxMessages:    int64(rc.t.cfg.Outbox.MaxMessages),
		OutboxPerUser:        rc.t.cfg.Outbox.PerUser,
		OutboxTrimmed:        rc.d.outbox.trimmed.Load(),
		OutboxEvicted:        rc.d.outbox.evicted.Load(),
		// Counting takes each users shard's lock in turn: fine for a
		// call made now and then, not per request.
		Users: int64(rc.d.users.len()),
	})
}
