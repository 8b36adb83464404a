package emulator

import (
	"net/http"

	"github.com/ciamcheck/ciamcheck/emulator/backdoor"
)

func (e *Emulator) bdStats(rc *reqCtx) {
	rc.writeJSON(http.StatusOK, backdoor.Stats{
		LiveFlows:        rc.d.liveFlows.Load(),
		MaxLiveFlows:     rc.t.maxLiveFlows,
		FlowsRefused:     rc.d.flowsRefused.Load(),
		PasscodeLockouts: rc.d.passcodeLockouts.Load(),
		OTPMaxAttempts:   rc.t.otpMaxAttempts,
	})
}
