// Command pulumi-language-nodejs is the engine's Node.js language plugin: the engine starts it to
// run a Pulumi program written for Node.js (`pulumi up` on this project, and Automation API
// workspaces that point at the project directory).
//
// Pulumi's own host lives in a Go module (sdk/nodejs/cmd/pulumi-language-nodejs/v3) that the Go
// module proxy this project can reach does not serve at any version, and the newest copy inside
// the sdk/v3 module (v3.68) predates the engine's way of passing runtime options. So Dumont builds
// this host, against the engine's own sdk/v3 release. It implements the LanguageRuntime service
// the way the engine expects and runs the program with @pulumi/pulumi's own cmd/run, so the
// program, the SDK and the engine are all Pulumi's; only the process launcher is ours.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
)

// version is set with -ldflags to the engine release this host is built with.
var version = "3.276.0"

// bailExitCode is what @pulumi/pulumi's cmd/run exits with after it has already reported the
// error to the engine; the engine must then not print a second, generic error.
const bailExitCode = 32

func main() {
	args := os.Args[1:]
	// The engine passes its own address last; flags (e.g. -tracing) may come before it.
	var engineAddress string
	for _, a := range args {
		if !strings.HasPrefix(a, "-") {
			engineAddress = a
		}
	}
	// A controller killed with SIGKILL takes its engine with it, but not this process, which would
	// then wait forever: when the engine that started us is gone (we were handed to another
	// parent), there is no one left to serve.
	parent := os.Getppid()
	go func() {
		for range time.Tick(time.Second) {
			if os.Getppid() != parent {
				fmt.Fprintln(os.Stderr, "the engine that started this language host is gone; exiting")
				os.Exit(0)
			}
		}
	}()
	host := &nodeHost{engineAddress: engineAddress}
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, host)
			return nil
		},
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "fatal: could not start the language host: %v\n", err)
		os.Exit(1)
	}
	// The engine reads the port from the first line of stdout.
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		fmt.Fprintf(os.Stderr, "fatal: %v\n", err)
		os.Exit(1)
	}
}

type nodeHost struct {
	pulumirpc.UnimplementedLanguageRuntimeServer
	engineAddress string
}

func (h *nodeHost) Handshake(_ context.Context, req *pulumirpc.LanguageHandshakeRequest) (*pulumirpc.LanguageHandshakeResponse, error) {
	if req.GetEngineAddress() != "" {
		h.engineAddress = req.GetEngineAddress()
	}
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *nodeHost) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version}, nil
}

// GetRequiredPackages reports the Pulumi resource packages installed for the program (a
// package.json with "pulumi": {"resource": true}), so that the engine can check their plugins.
func (h *nodeHost) GetRequiredPackages(_ context.Context, req *pulumirpc.GetRequiredPackagesRequest) (*pulumirpc.GetRequiredPackagesResponse, error) {
	deps, err := resourcePackages(req.GetInfo().GetProgramDirectory())
	if err != nil {
		return nil, err
	}
	return &pulumirpc.GetRequiredPackagesResponse{Packages: deps}, nil
}

func (h *nodeHost) GetRequiredPlugins(_ context.Context, req *pulumirpc.GetRequiredPluginsRequest) (*pulumirpc.GetRequiredPluginsResponse, error) {
	deps, err := resourcePackages(req.GetInfo().GetProgramDirectory())
	if err != nil {
		return nil, err
	}
	plugins := make([]*pulumirpc.PluginDependency, 0, len(deps))
	for _, d := range deps {
		plugins = append(plugins, &pulumirpc.PluginDependency{Name: d.GetName(), Kind: d.GetKind(), Version: d.GetVersion()})
	}
	return &pulumirpc.GetRequiredPluginsResponse{Plugins: plugins}, nil
}

func (h *nodeHost) RuntimeOptionsPrompts(context.Context, *pulumirpc.RuntimeOptionsRequest) (*pulumirpc.RuntimeOptionsResponse, error) {
	return &pulumirpc.RuntimeOptionsResponse{}, nil
}

func (h *nodeHost) About(context.Context, *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, errors.New("node is not on PATH")
	}
	out, err := exec.Command(node, "--version").Output()
	if err != nil {
		return nil, fmt.Errorf("node --version: %w", err)
	}
	return &pulumirpc.AboutResponse{Executable: node, Version: strings.TrimSpace(string(out))}, nil
}

// InstallDependencies installs nothing: Dumont's setup runs `npm ci`, and the engine's offline
// settings leave no registry to ask. It succeeds when the program's (or a plugin directory's, for
// `pulumi package add ./pulumi-package`) @pulumi/pulumi resolves, and otherwise says what to run.
func (h *nodeHost) InstallDependencies(req *pulumirpc.InstallDependenciesRequest, _ pulumirpc.LanguageRuntime_InstallDependenciesServer) error {
	dir := req.GetInfo().GetProgramDirectory()
	if dir == "" {
		dir = req.GetDirectory()
	}
	if _, err := resolveFrom(dir, "@pulumi/pulumi"); err != nil {
		return status.Errorf(codes.FailedPrecondition, "install dependencies with `npm ci` (Dumont's setup/setup.sh does): %v", err)
	}
	return nil
}

// Run starts the program with @pulumi/pulumi's cmd/run, which connects back to the engine's
// resource monitor, and waits for it to finish.
func (h *nodeHost) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	info := req.GetInfo()
	programDir := info.GetProgramDirectory()
	if programDir == "" {
		programDir = req.GetPwd()
	}
	runScript, err := resolveFrom(programDir, "@pulumi/pulumi/cmd/run")
	if err != nil {
		return nil, err
	}
	entry := info.GetEntryPoint()
	if entry == "" {
		entry = "."
	}
	program := filepath.Join(programDir, entry)

	args := []string{runScript,
		"--monitor=" + req.GetMonitorAddress(),
		"--engine=" + h.engineAddress,
		"--organization=" + req.GetOrganization(),
		"--project=" + req.GetProject(),
		"--stack=" + req.GetStack(),
		"--pwd=" + req.GetPwd(),
		"--root-directory=" + info.GetRootDirectory(),
		"--parallel=" + strconv.Itoa(int(req.GetParallel())),
	}
	if req.GetDryRun() {
		args = append(args, "--dry-run")
	}
	args = append(args, program)
	args = append(args, req.GetArgs()...)

	config, err := json.Marshal(req.GetConfig())
	if err != nil {
		return nil, err
	}
	secretKeys, err := json.Marshal(req.GetConfigSecretKeys())
	if err != nil {
		return nil, err
	}
	env := append(os.Environ(),
		"PULUMI_CONFIG="+string(config),
		"PULUMI_CONFIG_SECRET_KEYS="+string(secretKeys),
	)
	options := info.GetOptions().AsMap()
	// `typescript` defaults to true as in Pulumi's host; Dumont's Pulumi.yaml turns it off because
	// Node.js runs the TypeScript sources itself.
	typescript := true
	if v, ok := options["typescript"].(bool); ok {
		typescript = v
	}
	env = append(env, "PULUMI_NODEJS_TYPESCRIPT="+strconv.FormatBool(typescript))
	if v, ok := options["tsconfig"].(string); ok && v != "" {
		env = append(env, "PULUMI_NODEJS_TSCONFIG_PATH="+v)
	}
	var nodeArgs []string
	if v, ok := options["nodeargs"].(string); ok && v != "" {
		nodeArgs = strings.Fields(v)
	}

	cmd := exec.CommandContext(ctx, "node", append(nodeArgs, args...)...)
	cmd.Dir = req.GetPwd()
	cmd.Env = env
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
	err = cmd.Run()
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		return &pulumirpc.RunResponse{}, nil
	case errors.As(err, &exitErr) && exitErr.ExitCode() == bailExitCode:
		return &pulumirpc.RunResponse{Bail: true}, nil
	case errors.As(err, &exitErr) && exitErr.ExitCode() >= 0:
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("Program exited with non-zero exit code: %d", exitErr.ExitCode())}, nil
	default:
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("Program exited unexpectedly: %v", err)}, nil
	}
}

// RunPlugin starts a plugin written for Node.js: a directory whose PulumiPlugin.yaml names the
// nodejs runtime, such as Dumont's component package (pulumi-package/), which the engine runs when a
// program in another language (examples/yaml) declares a Dumont environment. Node.js runs the
// directory's package.json entry point; its output goes back to the engine, which reads the
// provider's port from the first line.
func (h *nodeHost) RunPlugin(req *pulumirpc.RunPluginRequest, server pulumirpc.LanguageRuntime_RunPluginServer) error {
	if kind := req.GetKind(); kind != "" && kind != "resource" {
		return status.Errorf(codes.Unimplemented, "this Node.js host runs resource plugins (component packages), not %s plugins", kind)
	}
	// exec copies stdout and stderr in two goroutines, and a gRPC stream takes one Send at a time.
	sends := &serializedSends{LanguageRuntime_RunPluginServer: server}
	closer, stdout, stderr, err := rpcutil.MakeRunPluginStreams(sends, false)
	if err != nil {
		return err
	}
	defer closer.Close()

	dir := req.GetInfo().GetProgramDirectory()
	if dir == "" {
		dir = req.GetProgram()
	}
	var nodeArgs []string
	if v, ok := req.GetInfo().GetOptions().AsMap()["nodeargs"].(string); ok && v != "" {
		nodeArgs = strings.Fields(v)
	}
	entry, err := pluginEntryPoint(dir)
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(server.Context(), "node", append(append(nodeArgs, entry), req.GetArgs()...)...)
	cmd.Dir = req.GetPwd()
	// The engine passes its whole environment; an empty list would leave node without PATH.
	cmd.Env = req.GetEnv()
	if len(cmd.Env) == 0 {
		cmd.Env = os.Environ()
	}
	cmd.Stdout = stdout
	cmd.Stderr = stderr
	// This host exits when its engine is gone (see main); the plugin must not outlive it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	err = cmd.Run()
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &exitErr) && exitErr.ExitCode() >= 0:
		return sends.Send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Exitcode{Exitcode: int32(exitErr.ExitCode())}})
	default:
		return fmt.Errorf("the plugin in %s could not run: %w", dir, err)
	}
}

// serializedSends lets the plugin's stdout and stderr copiers share one gRPC stream.
type serializedSends struct {
	pulumirpc.LanguageRuntime_RunPluginServer
	mu sync.Mutex
}

func (s *serializedSends) Send(response *pulumirpc.RunPluginResponse) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.LanguageRuntime_RunPluginServer.Send(response)
}

// pluginEntryPoint is the file a plugin directory's package.json names as its main (index.js by
// default). Not `node DIR`: Node.js tries DIR.json before DIR/, so a directory named like a sibling file `DIR.json`
// next to a package.json would run that file.
func pluginEntryPoint(dir string) (string, error) {
	raw, err := os.ReadFile(filepath.Join(dir, "package.json"))
	if err != nil {
		return "", fmt.Errorf("the plugin in %s has no package.json: %w", dir, err)
	}
	var manifest struct {
		Main string `json:"main"`
	}
	if err := json.Unmarshal(raw, &manifest); err != nil {
		return "", fmt.Errorf("%s: %w", filepath.Join(dir, "package.json"), err)
	}
	if manifest.Main == "" {
		manifest.Main = "index.js"
	}
	return filepath.Join(dir, manifest.Main), nil
}

// resolveFrom asks Node.js itself where a module resolves from dir, so that the same
// @pulumi/pulumi the program imports runs it.
func resolveFrom(dir, module string) (string, error) {
	cmd := exec.Command("node", "-e", "process.stdout.write(require.resolve(process.argv[1]))", module)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("cannot find %s from %s (is node on PATH and `npm ci` done?): %w", module, dir, err)
	}
	return string(out), nil
}

type packageJSON struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Pulumi  struct {
		Resource bool   `json:"resource"`
		Name     string `json:"name"`
		Version  string `json:"version"`
		Server   string `json:"server"`
	} `json:"pulumi"`
}

// resourcePackages lists node_modules/<pkg> and node_modules/@scope/<pkg> in the nearest
// node_modules above dir whose package.json marks a Pulumi resource package.
func resourcePackages(dir string) ([]*pulumirpc.PackageDependency, error) {
	modules := ""
	for d := dir; ; d = filepath.Dir(d) {
		if st, err := os.Stat(filepath.Join(d, "node_modules")); err == nil && st.IsDir() {
			modules = filepath.Join(d, "node_modules")
			break
		}
		if filepath.Dir(d) == d {
			return nil, nil
		}
	}
	candidates, err := filepath.Glob(filepath.Join(modules, "*", "package.json"))
	if err != nil {
		return nil, err
	}
	scoped, err := filepath.Glob(filepath.Join(modules, "@*", "*", "package.json"))
	if err != nil {
		return nil, err
	}
	var deps []*pulumirpc.PackageDependency
	for _, path := range append(candidates, scoped...) {
		raw, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		var pkg packageJSON
		if json.Unmarshal(raw, &pkg) != nil || !pkg.Pulumi.Resource {
			continue
		}
		name := pkg.Pulumi.Name
		if name == "" {
			name = strings.TrimPrefix(pkg.Name, "@pulumi/")
		}
		v := pkg.Pulumi.Version
		if v == "" {
			v = pkg.Version
		}
		deps = append(deps, &pulumirpc.PackageDependency{
			Kind: "resource", Name: name, Version: "v" + strings.TrimPrefix(v, "v"), Server: pkg.Pulumi.Server,
		})
	}
	sort.Slice(deps, func(i, j int) bool { return deps[i].GetName() < deps[j].GetName() })
	return deps, nil
}
