package loadgen

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/ciamcheck/ciamcheck/reports"
	"github.com/ciamcheck/ciamcheck/scenarios"
)

// Executor names, as written in a plan.
const (
	ExecConstantArrivalRate = "constant-arrival-rate"
	ExecRampingArrivalRate  = "ramping-arrival-rate"
	ExecConstantVUs         = "constant-vus"
	ExecRampingVUs          = "ramping-vus"
)

// Limits that keep every loop bounded even with a careless plan.
const (
	maxPlanDuration   = 24 * time.Hour
	maxPlanRate       = 1_000_000
	maxPlanVUs        = 100_000
	maxPlanInFlight   = 1_000_000
	defaultInFlight   = 1000
	defaultGraceStop  = 10 * time.Second
	maxGracefulStop   = 10 * time.Minute
	maxSetupUsers     = 1_000_000
	defaultThrottleMn = 20
	// The policy of a plan that sets no abort_on_throttle: a window of a
	// third of the plan's length, within these bounds, so a short run can
	// still abort.
	defaultThrottleWindow = 30 * time.Second
	minThrottleWindow     = time.Second
	defaultThrottleRatio  = 0.5
	// The longest Retry-After a plan honours unless it says otherwise.
	defaultMaxRetryAfter = 30 * time.Second
	maxMaxRetryAfter     = time.Hour
)

// Plan is a load plan: scenarios that run concurrently, safety limits and
// the thresholds that gate the run. Its YAML is decoded strictly.
type Plan struct {
	Name        string `yaml:"name" json:"name"`
	Description string `yaml:"description,omitempty" json:"description,omitempty"`
	// MaxRate caps every scenario's arrival rate (iterations/s). It must be
	// set when the target is not on loopback.
	MaxRate float64 `yaml:"max_rate,omitempty" json:"max_rate,omitempty"`
	// GracefulStop is how long in-flight iterations may run after the end
	// (or Ctrl-C) before their context is cancelled. Default 10s.
	GracefulStop    time.Duration   `yaml:"graceful_stop,omitempty" json:"graceful_stop_ns,omitempty"`
	AbortOnThrottle *ThrottlePolicy `yaml:"abort_on_throttle,omitempty" json:"abort_on_throttle,omitempty"`
	// MinApplied is the share of its schedule every scenario must apply
	// (arrivals sent for the open model, time run for the closed model)
	// for the run to be judged: below it the run could not be judged,
	// whatever its thresholds say. "95%" or 0.95; default 95%.
	MinApplied Share `yaml:"min_applied,omitempty" json:"min_applied,omitempty"`
	// MaxRetryAfter is the longest Retry-After the run honours by pausing
	// new iterations; a longer one ends the run, which then could not be
	// judged. Default 30s.
	MaxRetryAfter time.Duration    `yaml:"max_retry_after,omitempty" json:"max_retry_after_ns,omitempty"`
	Scenarios     []ScenarioConfig `yaml:"scenarios" json:"scenarios"`
	Thresholds    []string         `yaml:"thresholds,omitempty" json:"thresholds,omitempty"`

	thresholds []reports.Threshold
	// throttleDefaulted: Validate chose AbortOnThrottle, so a second
	// Validate does not hold the plan to it as if the user had.
	throttleDefaulted bool
}

// Share is a fraction in [0, 1], written in a plan as a percentage ("95%")
// or a fraction (0.95).
type Share float64

// UnmarshalYAML reads "95%" or 0.95.
func (s *Share) UnmarshalYAML(n *yaml.Node) error {
	var text string
	if err := n.Decode(&text); err != nil {
		return fmt.Errorf("line %d: want a percentage such as 95%% or a fraction such as 0.95", n.Line)
	}
	v, ok := strings.CutSuffix(strings.TrimSpace(text), "%")
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return fmt.Errorf("line %d: %q: want a percentage such as 95%% or a fraction such as 0.95", n.Line, text)
	}
	if ok {
		f /= 100
	}
	*s = Share(f)
	return nil
}

// ThrottlePolicy aborts the run when, over the last Window, at least Ratio
// of the work was throttled and there was at least MinRequests of it. Work
// is answers plus arrivals held back by a Retry-After pause; throttled work
// is 429 answers plus those held-back arrivals (a 503 is not throttling). A
// plan without abort_on_throttle gets a ratio of 0.5 over a window of a
// third of the plan's length, from 1s to 30s.
type ThrottlePolicy struct {
	Window      time.Duration `yaml:"window" json:"window_ns"`
	Ratio       float64       `yaml:"ratio" json:"ratio"`
	MinRequests int64         `yaml:"min_requests,omitempty" json:"min_requests,omitempty"`
}

// ScenarioConfig is one scenario: a flow driven by an executor.
type ScenarioConfig struct {
	Name     string `yaml:"name,omitempty" json:"name"`
	Flow     string `yaml:"flow" json:"flow"`
	Executor string `yaml:"executor" json:"executor"`

	// Open model.
	Rate        float64 `yaml:"rate,omitempty" json:"rate,omitempty"`             // constant-arrival-rate, iterations/s
	StartRate   float64 `yaml:"start_rate,omitempty" json:"start_rate,omitempty"` // ramping-arrival-rate
	MaxInFlight int     `yaml:"max_in_flight,omitempty" json:"max_in_flight,omitempty"`

	// Closed model.
	VUs       int           `yaml:"vus,omitempty" json:"vus,omitempty"`             // constant-vus
	StartVUs  int           `yaml:"start_vus,omitempty" json:"start_vus,omitempty"` // ramping-vus
	ThinkTime time.Duration `yaml:"think_time,omitempty" json:"think_time_ns,omitempty"`

	// Stages of a ramping executor: rate (arrivals/s) or VU count targets.
	Stages     []Stage       `yaml:"stages,omitempty" json:"stages,omitempty"`
	Duration   time.Duration `yaml:"duration,omitempty" json:"duration_ns,omitempty"`
	Iterations int64         `yaml:"iterations,omitempty" json:"iterations,omitempty"`

	Setup *SetupConfig `yaml:"setup,omitempty" json:"setup,omitempty"`

	// whole is the plan's scenario when this one is an execution segment
	// of it (see segment), nil otherwise.
	whole *ScenarioConfig
	seg   reports.Segment
}

// SetupConfig asks the flow to prepare before measuring (e.g. a user pool).
type SetupConfig struct {
	Users int `yaml:"users" json:"users"`
}

var namePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// LoadPlan reads and validates a plan file.
func LoadPlan(path string) (*Plan, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read plan: %w", err)
	}
	p, err := ParsePlan(b)
	if err != nil {
		return nil, fmt.Errorf("plan %s: %w", path, err)
	}
	return p, nil
}

// ParsePlan decodes a YAML plan, rejecting unknown keys, and validates it.
func ParsePlan(b []byte) (*Plan, error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var p Plan
	if err := dec.Decode(&p); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("empty plan")
		}
		return nil, fmt.Errorf("decode plan: %w", err)
	}
	var extra any
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, errors.New("decode plan: more than one YAML document")
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return &p, nil
}

// Validate checks the plan, fills defaults (scenario names, max_in_flight,
// graceful_stop) and parses the thresholds.
func (p *Plan) Validate() error {
	if err := p.validateSettings(); err != nil {
		return err
	}
	if len(p.Scenarios) == 0 {
		return errors.New("plan has no scenarios")
	}
	flowOf, err := p.validateScenarios()
	if err != nil {
		return err
	}
	if p.AbortOnThrottle == nil {
		// Safety toward real tenants: a plan that says nothing still stops
		// hammering a tenant that throttles it for a sustained period. The
		// window is a third of the run so a short run can abort too.
		w := min(defaultThrottleWindow, max(minThrottleWindow, p.length()/3))
		if w > p.length() {
			w = max(100*time.Millisecond, p.length())
		}
		p.AbortOnThrottle = &ThrottlePolicy{Window: w, Ratio: defaultThrottleRatio, MinRequests: defaultThrottleMn}
		p.throttleDefaulted = true
	} else if w := p.AbortOnThrottle.Window; !p.throttleDefaulted && w > p.length() {
		return fmt.Errorf("abort_on_throttle.window %s is longer than the plan's %s: it could never fill (give a window of at most %s)", w, p.length(), p.length())
	}
	return p.parseThresholds(flowOf)
}

// validateSettings checks the plan-wide settings and fills their defaults.
func (p *Plan) validateSettings() error {
	if p.Name != "" && !namePattern.MatchString(p.Name) {
		return fmt.Errorf("plan name %q: want lower-case letters, digits, '.', '_' or '-'", p.Name)
	}
	if !finiteNonNeg(p.MaxRate) || p.MaxRate > maxPlanRate {
		return fmt.Errorf("max_rate %g: want a number in [0, %d]", p.MaxRate, maxPlanRate)
	}
	if p.GracefulStop < 0 || p.GracefulStop > maxGracefulStop {
		return fmt.Errorf("graceful_stop %s: want 0..%s", p.GracefulStop, maxGracefulStop)
	}
	if p.GracefulStop == 0 {
		p.GracefulStop = defaultGraceStop
	}
	if !(p.MinApplied >= 0 && p.MinApplied <= 1) {
		return fmt.Errorf("min_applied %g: want a share from 0%% to 100%%", float64(p.MinApplied))
	}
	if p.MinApplied == 0 {
		p.MinApplied = reports.DefaultMinApplied
	}
	if p.MaxRetryAfter < 0 || p.MaxRetryAfter > maxMaxRetryAfter {
		return fmt.Errorf("max_retry_after %s: want 0..%s", p.MaxRetryAfter, maxMaxRetryAfter)
	}
	if p.MaxRetryAfter == 0 {
		p.MaxRetryAfter = defaultMaxRetryAfter
	}
	if t := p.AbortOnThrottle; t != nil {
		if t.Window < 100*time.Millisecond || t.Window > time.Hour {
			return fmt.Errorf("abort_on_throttle.window %s: want 100ms..1h", t.Window)
		}
		if !(t.Ratio > 0 && t.Ratio <= 1) {
			return fmt.Errorf("abort_on_throttle.ratio %g: want (0, 1]", t.Ratio)
		}
		if t.MinRequests < 0 {
			return fmt.Errorf("abort_on_throttle.min_requests %d: want >= 0", t.MinRequests)
		}
		if t.MinRequests == 0 {
			t.MinRequests = defaultThrottleMn
		}
	}
	return nil
}

// validateScenarios checks every scenario, names those without a name
// after their flow, and returns each scenario's flow by name.
func (p *Plan) validateScenarios() (flowOf map[string]string, err error) {
	flowOf = map[string]string{}
	for i := range p.Scenarios {
		sc := &p.Scenarios[i]
		if sc.Name == "" {
			sc.Name = sc.Flow
		}
		if err := sc.validate(); err != nil {
			return nil, fmt.Errorf("scenario %d (%s): %w", i+1, sc.Name, err)
		}
		if _, dup := flowOf[sc.Name]; dup {
			return nil, fmt.Errorf("scenario %d: duplicate name %q (give each a name:)", i+1, sc.Name)
		}
		flowOf[sc.Name] = sc.Flow
		if p.MaxRate > 0 && sc.peakRate() > p.MaxRate {
			return nil, fmt.Errorf("scenario %s: rate %g/s exceeds the plan's max_rate %g/s", sc.Name, sc.peakRate(), p.MaxRate)
		}
	}
	return flowOf, nil
}

// parseThresholds parses the plan's thresholds, refusing those that name a
// scenario, or a step of its flow, that the plan does not have.
func (p *Plan) parseThresholds(flowOf map[string]string) error {
	p.thresholds = p.thresholds[:0]
	for _, s := range p.Thresholds {
		th, err := reports.ParseThreshold(s)
		if err != nil {
			return fmt.Errorf("thresholds: %w", err)
		}
		if _, ok := flowOf[th.Scenario]; th.Scenario != "" && !ok {
			return fmt.Errorf("threshold %q: no scenario named %q", s, th.Scenario)
		}
		// A step its flow never records would only fail, with "no
		// samples", once the run is over.
		if steps := scenarios.Steps(flowOf[th.Scenario]); th.Step != "" && th.Step != reports.FlowStep && steps != nil &&
			!slices.Contains(steps, scenarios.StepName(th.Step)) {
			return fmt.Errorf("threshold %q: flow %s has no step %q (its steps: flow, %s)", s, flowOf[th.Scenario], th.Step, joinSteps(steps))
		}
		p.thresholds = append(p.thresholds, th)
	}
	return nil
}

// length is how long the plan's longest scenario schedules iterations.
func (p *Plan) length() time.Duration {
	var d time.Duration
	for i := range p.Scenarios {
		d = max(d, p.Scenarios[i].length())
	}
	return d
}

func (sc *ScenarioConfig) validate() error {
	if err := sc.validateCommon(); err != nil {
		return err
	}
	var err error
	switch sc.Executor {
	case ExecConstantArrivalRate:
		err = sc.validateConstantArrivalRate()
	case ExecRampingArrivalRate:
		err = sc.validateRampingArrivalRate()
	case ExecConstantVUs:
		err = sc.validateConstantVUs()
	case ExecRampingVUs:
		err = sc.validateRampingVUs()
	case "":
		return fmt.Errorf("executor is required (%s, %s, %s or %s)", ExecConstantArrivalRate, ExecRampingArrivalRate, ExecConstantVUs, ExecRampingVUs)
	default:
		return fmt.Errorf("unknown executor %q (want %s, %s, %s or %s)", sc.Executor, ExecConstantArrivalRate, ExecRampingArrivalRate, ExecConstantVUs, ExecRampingVUs)
	}
	if err != nil {
		return err
	}
	if sc.isOpen() && sc.MaxInFlight == 0 {
		sc.MaxInFlight = defaultInFlight
	}
	return nil
}

// validateCommon checks the settings every executor reads the same way.
func (sc *ScenarioConfig) validateCommon() error {
	if sc.Flow == "" {
		return errors.New("flow is required")
	}
	if !namePattern.MatchString(sc.Name) {
		return fmt.Errorf("name %q: want lower-case letters, digits, '.', '_' or '-' (max 64)", sc.Name)
	}
	if sc.Duration < 0 || sc.Duration > maxPlanDuration {
		return fmt.Errorf("duration %s: want 0..%s", sc.Duration, maxPlanDuration)
	}
	if sc.Iterations < 0 {
		return fmt.Errorf("iterations %d: want >= 0", sc.Iterations)
	}
	if sc.ThinkTime < 0 || sc.ThinkTime > time.Hour {
		return fmt.Errorf("think_time %s: want 0..1h", sc.ThinkTime)
	}
	if sc.MaxInFlight < 0 || sc.MaxInFlight > maxPlanInFlight {
		return fmt.Errorf("max_in_flight %d: want 0..%d", sc.MaxInFlight, maxPlanInFlight)
	}
	if sc.Setup != nil && (sc.Setup.Users < 0 || sc.Setup.Users > maxSetupUsers) {
		return fmt.Errorf("setup.users %d: want 0..%d", sc.Setup.Users, maxSetupUsers)
	}
	var total time.Duration
	for i, st := range sc.Stages {
		if st.Duration <= 0 || st.Duration > maxPlanDuration {
			return fmt.Errorf("stage %d: duration %s: want > 0 and <= %s", i+1, st.Duration, maxPlanDuration)
		}
		if !finiteNonNeg(st.Target) {
			return fmt.Errorf("stage %d: target %g: want a number >= 0", i+1, st.Target)
		}
		total += st.Duration
	}
	if total > maxPlanDuration {
		return fmt.Errorf("stages last %s: want <= %s", total, maxPlanDuration)
	}
	return nil
}

// forbid refuses a setting the scenario's executor does not read.
func (sc *ScenarioConfig) forbid(set bool, key string) error {
	if set {
		return fmt.Errorf("%s does not apply to executor %s", key, sc.Executor)
	}
	return nil
}

func (sc *ScenarioConfig) validateConstantArrivalRate() error {
	if !(sc.Rate > 0) || sc.Rate > maxPlanRate || math.IsInf(sc.Rate, 0) {
		return fmt.Errorf("rate %g: want > 0 and <= %d iterations/s", sc.Rate, maxPlanRate)
	}
	if sc.Duration == 0 && sc.Iterations == 0 {
		return errors.New("constant-arrival-rate needs duration or iterations")
	}
	if sc.Duration == 0 {
		// Bound the loop by time even when only iterations were asked for.
		sc.Duration = min(maxPlanDuration, secondsToDuration(float64(sc.Iterations)/sc.Rate)+time.Second)
	}
	return errors.Join(sc.forbid(len(sc.Stages) > 0, "stages"), sc.forbid(sc.StartRate != 0, "start_rate"),
		sc.forbid(sc.VUs != 0, "vus"), sc.forbid(sc.StartVUs != 0, "start_vus"), sc.forbid(sc.ThinkTime != 0, "think_time"))
}

func (sc *ScenarioConfig) validateRampingArrivalRate() error {
	if len(sc.Stages) == 0 {
		return errors.New("ramping-arrival-rate needs stages")
	}
	if !finiteNonNeg(sc.StartRate) || sc.StartRate > maxPlanRate {
		return fmt.Errorf("start_rate %g: want 0..%d", sc.StartRate, maxPlanRate)
	}
	for i, st := range sc.Stages {
		if st.Target > maxPlanRate {
			return fmt.Errorf("stage %d: target %g: want <= %d iterations/s", i+1, st.Target, maxPlanRate)
		}
	}
	return errors.Join(sc.forbid(sc.Duration != 0, "duration (the stages set it)"), sc.forbid(sc.Rate != 0, "rate"),
		sc.forbid(sc.VUs != 0, "vus"), sc.forbid(sc.StartVUs != 0, "start_vus"), sc.forbid(sc.ThinkTime != 0, "think_time"))
}

func (sc *ScenarioConfig) validateConstantVUs() error {
	if sc.VUs <= 0 || sc.VUs > maxPlanVUs {
		return fmt.Errorf("vus %d: want 1..%d", sc.VUs, maxPlanVUs)
	}
	if sc.Duration == 0 {
		return errors.New("constant-vus needs duration (iterations may also cap it)")
	}
	return errors.Join(sc.forbid(len(sc.Stages) > 0, "stages"), sc.forbid(sc.Rate != 0, "rate"),
		sc.forbid(sc.StartRate != 0, "start_rate"), sc.forbid(sc.StartVUs != 0, "start_vus"), sc.forbid(sc.MaxInFlight != 0, "max_in_flight"))
}

func (sc *ScenarioConfig) validateRampingVUs() error {
	if len(sc.Stages) == 0 {
		return errors.New("ramping-vus needs stages")
	}
	if sc.StartVUs < 0 || sc.StartVUs > maxPlanVUs {
		return fmt.Errorf("start_vus %d: want 0..%d", sc.StartVUs, maxPlanVUs)
	}
	for i, st := range sc.Stages {
		if st.Target > maxPlanVUs || st.Target != math.Trunc(st.Target) {
			return fmt.Errorf("stage %d: target %g: want a whole number of VUs <= %d", i+1, st.Target, maxPlanVUs)
		}
	}
	return errors.Join(sc.forbid(sc.Duration != 0, "duration (the stages set it)"), sc.forbid(sc.Rate != 0, "rate"),
		sc.forbid(sc.StartRate != 0, "start_rate"), sc.forbid(sc.VUs != 0, "vus"), sc.forbid(sc.MaxInFlight != 0, "max_in_flight"))
}

func (sc *ScenarioConfig) isOpen() bool {
	return sc.Executor == ExecConstantArrivalRate || sc.Executor == ExecRampingArrivalRate
}

// length is how long the scenario schedules new iterations.
func (sc *ScenarioConfig) length() time.Duration {
	if len(sc.Stages) > 0 {
		var d time.Duration
		for _, st := range sc.Stages {
			d += st.Duration
		}
		return d
	}
	return sc.Duration
}

// maxVUs is the most VUs a closed-model scenario runs at once; 0 for the
// open model.
func (sc *ScenarioConfig) maxVUs() int {
	switch sc.Executor {
	case ExecConstantVUs:
		return sc.VUs
	case ExecRampingVUs:
		n := sc.StartVUs
		for _, st := range sc.Stages {
			n = max(n, int(st.Target))
		}
		return n
	}
	return 0
}

// peakRate is the highest arrival rate an open-model scenario asks for; 0
// for the closed model, whose rate the target's speed decides.
func (sc *ScenarioConfig) peakRate() float64 {
	switch sc.Executor {
	case ExecConstantArrivalRate:
		return sc.Rate
	case ExecRampingArrivalRate:
		return RampingPacer{Start: sc.StartRate, Stages: sc.Stages}.Peak()
	}
	return 0
}

// pacer returns the open-model schedule.
func (sc *ScenarioConfig) pacer() Pacer {
	if sc.whole != nil {
		if s, ok := sc.whole.pacer().(Scheduler); ok {
			return segmentPacer{whole: s, seg: sc.seg}
		}
	}
	if sc.Executor == ExecRampingArrivalRate {
		return RampingPacer{Start: sc.StartRate, Stages: sc.Stages}
	}
	return ConstantPacer{Rate: sc.Rate}
}

// rateIntegral is H(t), the integral of an open-model schedule's own rate
// from its start to t (within 0 and its length), in closed form: the
// arrivals due by t, before any iteration limit.
func (sc *ScenarioConfig) rateIntegral(t time.Duration) float64 {
	t = min(max(t, 0), sc.length())
	if sc.Executor == ExecConstantArrivalRate {
		return t.Seconds() * sc.Rate
	}
	var due float64
	r0 := sc.StartRate
	for _, st := range sc.Stages {
		if t <= 0 {
			break
		}
		d := min(t, st.Duration)
		// The rate at d into the stage, then the trapezoid under it.
		r1 := rampValue(r0, []Stage{st}, d)
		due += (r0 + r1) / 2 * d.Seconds()
		t -= d
		r0 = st.Target
	}
	return due
}

// expected is the number of arrivals the schedule holds (open model), capped
// by the iteration limit; for the closed model it is the iteration limit.
func (sc *ScenarioConfig) expected() int64 {
	if sc.whole != nil {
		return sc.seg.Share(sc.whole.expected())
	}
	if !sc.isOpen() {
		return sc.Iterations
	}
	s, _ := sc.pacer().(Scheduler)
	end := sc.length()
	// Arrival n is due before the end exactly when n < H(end), the integral
	// of the rate; take the closed form, then correct float rounding with
	// the pacer itself.
	n := int64(math.Ceil(sc.rateIntegral(end) - 1e-9))
	for n > 0 {
		if at, ok := s.HitAt(uint64(n - 1)); ok && at < end {
			break
		}
		n--
	}
	for {
		if at, ok := s.HitAt(uint64(n)); !ok || at >= end {
			break
		}
		n++
	}
	if sc.Iterations > 0 && n > sc.Iterations {
		n = sc.Iterations
	}
	return n
}

func joinSteps(steps []scenarios.StepName) string {
	out := make([]string, len(steps))
	for i, st := range steps {
		out[i] = string(st)
	}
	return strings.Join(out, ", ")
}

func finiteNonNeg(f float64) bool { return f >= 0 && !math.IsInf(f, 0) && !math.IsNaN(f) }
