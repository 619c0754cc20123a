// Command pulumi-resource-command is the engine plugin behind the @pulumi/command SDK's
// local.Command resource and local.run invoke.
//
// Pulumi's own provider (github.com/pulumi/pulumi-command/provider) is not served by the Go
// module proxy this project can reach, so Dumont builds this one from the documented behaviour of
// command:local:Command, against the same SDK package the engine uses. It runs real processes;
// only the remote:* resources, assetPaths and archivePaths are not provided, and asking for them
// is an error rather than a silent no-op.
package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/common/diag"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/provider"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"
)

// version is set with -ldflags to the @pulumi/command SDK version this plugin serves.
var version = "1.2.1"

const (
	commandType = "command:local:Command"
	runFunction = "command:local:run"
)

// replaceKeys force a new resource when they change; every other input is an in-place update,
// which re-runs `update` (or `create` when no update command is given).
var replaceKeys = map[string]bool{"triggers": true}

var inputKeys = []string{
	"addPreviousOutputInEnv", "archivePaths", "assetPaths", "create", "delete", "dir",
	"environment", "interpreter", "logging", "stdin", "triggers", "update",
}

func main() {
	err := provider.Main("command", func(host *provider.HostClient) (pulumirpc.ResourceProviderServer, error) {
		return &commandProvider{host: host}, nil
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

type commandProvider struct {
	pulumirpc.UnimplementedResourceProviderServer
	host *provider.HostClient
}

var marshalOptions = plugin.MarshalOptions{KeepUnknowns: true, SkipNulls: true}

func unmarshal(s *structpb.Struct) (resource.PropertyMap, error) {
	return plugin.UnmarshalProperties(s, marshalOptions)
}

func marshal(m resource.PropertyMap) (*structpb.Struct, error) {
	return plugin.MarshalProperties(m, marshalOptions)
}

func (p *commandProvider) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version}, nil
}

func (p *commandProvider) Handshake(context.Context, *pulumirpc.ProviderHandshakeRequest) (*pulumirpc.ProviderHandshakeResponse, error) {
	return &pulumirpc.ProviderHandshakeResponse{AcceptSecrets: false, AcceptResources: false}, nil
}

func (p *commandProvider) GetSchema(context.Context, *pulumirpc.GetSchemaRequest) (*pulumirpc.GetSchemaResponse, error) {
	return &pulumirpc.GetSchemaResponse{Schema: `{"name":"command","version":"` + version + `"}`}, nil
}

func (p *commandProvider) CheckConfig(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	return &pulumirpc.CheckResponse{Inputs: req.GetNews()}, nil
}

func (p *commandProvider) DiffConfig(context.Context, *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	return &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_NONE}, nil
}

func (p *commandProvider) Configure(context.Context, *pulumirpc.ConfigureRequest) (*pulumirpc.ConfigureResponse, error) {
	return &pulumirpc.ConfigureResponse{AcceptSecrets: false, SupportsPreview: true}, nil
}

func (p *commandProvider) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil
}

func (p *commandProvider) Check(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	if err := checkType(req.GetUrn()); err != nil {
		return nil, err
	}
	news, err := unmarshal(req.GetNews())
	if err != nil {
		return nil, err
	}
	var failures []*pulumirpc.CheckFailure
	for _, key := range []string{"assetPaths", "archivePaths"} {
		if v, ok := news[resource.PropertyKey(key)]; ok && !v.IsNull() {
			failures = append(failures, &pulumirpc.CheckFailure{
				Property: key,
				Reason:   key + " is not supported by this build of the command provider",
			})
		}
	}
	return &pulumirpc.CheckResponse{Inputs: req.GetNews(), Failures: failures}, nil
}

func (p *commandProvider) Diff(_ context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	olds, err := unmarshal(req.GetOldInputs())
	if err != nil {
		return nil, err
	}
	if len(olds) == 0 {
		// State written without old inputs: compare against the outputs, which hold the inputs too.
		if olds, err = unmarshal(req.GetOlds()); err != nil {
			return nil, err
		}
	}
	news, err := unmarshal(req.GetNews())
	if err != nil {
		return nil, err
	}
	var diffs, replaces []string
	for _, key := range inputKeys {
		k := resource.PropertyKey(key)
		if olds[k].DeepEquals(news[k]) {
			continue
		}
		diffs = append(diffs, key)
		if replaceKeys[key] {
			replaces = append(replaces, key)
		}
	}
	changes := pulumirpc.DiffResponse_DIFF_NONE
	if len(diffs) > 0 {
		changes = pulumirpc.DiffResponse_DIFF_SOME
	}
	return &pulumirpc.DiffResponse{
		Changes: changes, Diffs: diffs, Replaces: replaces,
		DeleteBeforeReplace: false, HasDetailedDiff: false,
	}, nil
}

func (p *commandProvider) Create(ctx context.Context, req *pulumirpc.CreateRequest) (*pulumirpc.CreateResponse, error) {
	inputs, err := unmarshal(req.GetProperties())
	if err != nil {
		return nil, err
	}
	id := randomID()
	if req.GetPreview() {
		return &pulumirpc.CreateResponse{Id: id, Properties: mustMarshal(withUnknownOutputs(inputs))}, nil
	}
	outputs, err := p.runPhase(ctx, req.GetUrn(), inputs, "create", nil)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.CreateResponse{Id: id, Properties: mustMarshal(outputs)}, nil
}

func (p *commandProvider) Update(ctx context.Context, req *pulumirpc.UpdateRequest) (*pulumirpc.UpdateResponse, error) {
	olds, err := unmarshal(req.GetOlds())
	if err != nil {
		return nil, err
	}
	news, err := unmarshal(req.GetNews())
	if err != nil {
		return nil, err
	}
	if req.GetPreview() {
		return &pulumirpc.UpdateResponse{Properties: mustMarshal(withUnknownOutputs(news))}, nil
	}
	phase := "update"
	if stringInput(news, "update") == "" {
		phase = "create"
	}
	outputs, err := p.runPhase(ctx, req.GetUrn(), news, phase, olds)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.UpdateResponse{Properties: mustMarshal(outputs)}, nil
}

func (p *commandProvider) Delete(ctx context.Context, req *pulumirpc.DeleteRequest) (*emptypb.Empty, error) {
	olds, err := unmarshal(req.GetProperties())
	if err != nil {
		return nil, err
	}
	if _, err := p.runPhase(ctx, req.GetUrn(), olds, "delete", olds); err != nil {
		return nil, err
	}
	return &emptypb.Empty{}, nil
}

func (p *commandProvider) Read(_ context.Context, req *pulumirpc.ReadRequest) (*pulumirpc.ReadResponse, error) {
	// A local command has nothing outside the state to read back: what it did is its output.
	return &pulumirpc.ReadResponse{Id: req.GetId(), Properties: req.GetProperties(), Inputs: req.GetInputs()}, nil
}

func (p *commandProvider) Invoke(ctx context.Context, req *pulumirpc.InvokeRequest) (*pulumirpc.InvokeResponse, error) {
	if req.GetTok() != runFunction {
		return nil, fmt.Errorf("unknown function %q: this command provider serves %s", req.GetTok(), runFunction)
	}
	args, err := unmarshal(req.GetArgs())
	if err != nil {
		return nil, err
	}
	args["create"] = args["command"]
	outputs, err := p.runPhase(ctx, "", args, "create", nil)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.InvokeResponse{Return: mustMarshal(outputs)}, nil
}

func checkType(urn string) error {
	parts := strings.Split(urn, "::")
	if len(parts) < 4 || !strings.HasSuffix(parts[2], commandType) {
		return fmt.Errorf("unknown resource type in %q: this command provider serves %s", urn, commandType)
	}
	return nil
}

// runPhase runs the command named by phase ("create", "update" or "delete") when the inputs
// give one, and returns the inputs plus stdout and stderr. previous carries the last outputs, which
// the command sees as PULUMI_COMMAND_STDOUT/STDERR unless addPreviousOutputInEnv is false.
func (p *commandProvider) runPhase(ctx context.Context, urn string, inputs resource.PropertyMap,
	phase string, previous resource.PropertyMap,
) (resource.PropertyMap, error) {
	outputs := inputs.Copy()
	outputs["stdout"] = resource.NewStringProperty(stringInput(previous, "stdout"))
	outputs["stderr"] = resource.NewStringProperty(stringInput(previous, "stderr"))
	script := stringInput(inputs, phase)
	if script == "" {
		return outputs, nil
	}

	interpreter := []string{"/bin/sh", "-c"}
	if v := inputs["interpreter"]; v.IsArray() && len(v.ArrayValue()) > 0 {
		interpreter = nil
		for _, e := range v.ArrayValue() {
			interpreter = append(interpreter, e.StringValue())
		}
	}
	cmd := exec.CommandContext(ctx, interpreter[0], append(interpreter[1:], script)...)
	cmd.Dir = stringInput(inputs, "dir")
	cmd.Env = os.Environ()
	if v := inputs["environment"]; v.IsObject() {
		keys := v.ObjectValue().StableKeys()
		for _, k := range keys {
			cmd.Env = append(cmd.Env, string(k)+"="+v.ObjectValue()[k].StringValue())
		}
	}
	addPrevious := true
	if v := inputs["addPreviousOutputInEnv"]; v.IsBool() {
		addPrevious = v.BoolValue()
	}
	if addPrevious && previous != nil {
		cmd.Env = append(cmd.Env,
			"PULUMI_COMMAND_STDOUT="+stringInput(previous, "stdout"),
			"PULUMI_COMMAND_STDERR="+stringInput(previous, "stderr"))
	}
	if stdin := stringInput(inputs, "stdin"); stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}

	logging := stringInput(inputs, "logging")
	if logging == "" {
		logging = "stdoutAndStderr"
	}
	stdoutPipe, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	stderrPipe, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: starting %q: %w", phase, interpreter[0], err)
	}
	var stdout, stderr strings.Builder
	var wg sync.WaitGroup
	wg.Add(2)
	go p.collect(ctx, &wg, urn, stdoutPipe, &stdout, logging == "stdout" || logging == "stdoutAndStderr")
	go p.collect(ctx, &wg, urn, stderrPipe, &stderr, logging == "stderr" || logging == "stdoutAndStderr")
	wg.Wait()
	runErr := cmd.Wait()

	outputs["stdout"] = resource.NewStringProperty(strings.TrimSuffix(stdout.String(), "\n"))
	outputs["stderr"] = resource.NewStringProperty(strings.TrimSuffix(stderr.String(), "\n"))
	if runErr != nil {
		return nil, fmt.Errorf("%s command failed: %w\nstderr: %s", phase, runErr, tail(stderr.String(), 2000))
	}
	return outputs, nil
}

// collect copies a command's stream into buf and, when asked, into the engine's log for urn,
// line by line so that long commands show progress.
func (p *commandProvider) collect(ctx context.Context, wg *sync.WaitGroup, urn string, r io.Reader,
	buf *strings.Builder, log bool,
) {
	defer wg.Done()
	scanner := bufio.NewScanner(r)
	scanner.Buffer(make([]byte, 64*1024), 16*1024*1024)
	for scanner.Scan() {
		line := scanner.Text()
		buf.WriteString(line)
		buf.WriteByte('\n')
		if log && urn != "" && p.host != nil {
			_ = p.host.Log(ctx, diag.Info, resource.URN(urn), line)
		}
	}
}

func withUnknownOutputs(inputs resource.PropertyMap) resource.PropertyMap {
	out := inputs.Copy()
	out["stdout"] = resource.MakeComputed(resource.NewStringProperty(""))
	out["stderr"] = resource.MakeComputed(resource.NewStringProperty(""))
	return out
}

func stringInput(m resource.PropertyMap, key string) string {
	if m == nil {
		return ""
	}
	if v, ok := m[resource.PropertyKey(key)]; ok && v.IsString() {
		return v.StringValue()
	}
	return ""
}

func mustMarshal(m resource.PropertyMap) *structpb.Struct {
	s, err := marshal(m)
	if err != nil {
		panic(err)
	}
	return s
}

func randomID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
