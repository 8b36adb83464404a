package emulator

import "net/http"

// statsBody is GET /emulator/v1/stats: the emulator's bounds and what they
// refused since the last reset.
type statsBody struct {
	// LiveFlows is how many sign-up, sign-in and reset flows are held;
	// MaxLiveFlows the bound (max_live_flows).
	LiveFlows    int64 `json:"live_flows"`
	MaxLiveFlows int64 `json:"max_live_flows"`
	// FlowsRefused counts starts answered 429 at the bound.
	FlowsRefused int64 `json:"flows_refused"`
	// PasscodeLockouts counts codes that stopped working after
	// OTPMaxAttempts wrong values (otp.max_attempts).
	PasscodeLockouts int64 `json:"passcode_lockouts"`
	OTPMaxAttempts   int   `json:"otp_max_attempts"`
}

func (e *Emulator) bdStats(rc *reqCtx) {
	rc.writeJSON(http.StatusOK, statsBody{
		LiveFlows:        rc.d.liveFlows.Load(),
		MaxLiveFlows:     rc.t.maxLiveFlows,
		FlowsRefused:     rc.d.flowsRefused.Load(),
		PasscodeLockouts: rc.d.passcodeLockouts.Load(),
		OTPMaxAttempts:   rc.t.otpMaxAttempts,
	})
}
