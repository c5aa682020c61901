package apps

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// Parameter sections of a function. A call's arguments are an object with
// at most these three members.
const (
	SectionPath  = "path"
	SectionQuery = "query"
	SectionBody  = "body"
)

// Function is one declared API function.
type Function struct {
	// Name is unique within the app and fits OpenAI-style tool names
	// (letters, digits, underscores and hyphens, at most 64).
	Name string `json:"name"`

	// Description explains to a caller, human or model, what the function does.
	Description string `json:"description"`

	// Method is the upstream HTTP method.
	Method string `json:"method"`

	// Path is the upstream path template relative to the API version, such
	// as "/{ig_id}/media". Each {name} is one path segment.
	Path string `json:"path"`

	// Parameters is a JSON Schema object with the optional members path,
	// query and body, each an object schema of that section's parameters.
	Parameters json.RawMessage `json:"parameters"`

	schema   *jsonschema.Schema
	segments []segment

	// types maps section and parameter name to the parameter's JSON type
	// ("string", "integer", "boolean", "number", "array", "object"), used
	// to read route-mode strings and to encode values on the wire.
	types map[string]map[string]string
}

var functionNamePattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

var httpMethods = map[string]bool{
	http.MethodGet: true, http.MethodPost: true, http.MethodPut: true,
	http.MethodPatch: true, http.MethodDelete: true,
}

// parameterSchema is the part of Parameters read outside the validator.
type parameterSchema struct {
	Type       string                     `json:"type"`
	Properties map[string]json.RawMessage `json:"properties"`
}

func (f *Function) compile(app string) error {
	if !functionNamePattern.MatchString(f.Name) {
		return fmt.Errorf("function name %q must be 1 to 64 letters, digits, underscores or hyphens", f.Name)
	}
	if !httpMethods[f.Method] {
		return fmt.Errorf("function %s: method %q must be one of GET, POST, PUT, PATCH, DELETE", f.Name, f.Method)
	}

	segments, err := parseTemplate(f.Path)
	if err != nil {
		return fmt.Errorf("function %s: %w", f.Name, err)
	}
	f.segments = segments

	types, err := readParameterTypes(f.Parameters)
	if err != nil {
		return fmt.Errorf("function %s: parameters: %w", f.Name, err)
	}
	f.types = types
	if err := f.checkPathParameters(); err != nil {
		return fmt.Errorf("function %s: %w", f.Name, err)
	}

	// compile once here, so a request never pays for it
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(f.Parameters))
	if err != nil {
		return fmt.Errorf("function %s: parameters: %w", f.Name, err)
	}
	location := "credgate:///" + app + "/" + f.Name + ".json"
	compiler := jsonschema.NewCompiler()
	compiler.DefaultDraft(jsonschema.Draft2020)
	if err := compiler.AddResource(location, doc); err != nil {
		return fmt.Errorf("function %s: parameters: %w", f.Name, err)
	}
	schema, err := compiler.Compile(location)
	if err != nil {
		return fmt.Errorf("function %s: parameters are not a valid JSON Schema: %w", f.Name, err)
	}
	f.schema = schema
	return nil
}

// readParameterTypes reads the JSON type of each parameter of each section.
func readParameterTypes(raw json.RawMessage) (map[string]map[string]string, error) {
	var top parameterSchema
	if err := json.Unmarshal(raw, &top); err != nil {
		return nil, err
	}
	if top.Type != "object" {
		return nil, fmt.Errorf("type must be \"object\", got %q", top.Type)
	}

	types := make(map[string]map[string]string)
	for section, sectionRaw := range top.Properties {
		if section != SectionPath && section != SectionQuery && section != SectionBody {
			return nil, fmt.Errorf("unknown section %q: use path, query or body", section)
		}
		var sectionSchema parameterSchema
		if err := json.Unmarshal(sectionRaw, &sectionSchema); err != nil {
			return nil, fmt.Errorf("%s: %w", section, err)
		}
		if sectionSchema.Type != "object" {
			return nil, fmt.Errorf("%s: type must be \"object\", got %q", section, sectionSchema.Type)
		}
		types[section] = make(map[string]string, len(sectionSchema.Properties))
		for name, propertyRaw := range sectionSchema.Properties {
			var property struct {
				Type string `json:"type"`
			}
			if err := json.Unmarshal(propertyRaw, &property); err != nil {
				return nil, fmt.Errorf("%s.%s: %w", section, name, err)
			}
			if property.Type == "" {
				return nil, fmt.Errorf("%s.%s: type is missing", section, name)
			}
			types[section][name] = property.Type
		}
	}
	return types, nil
}

// checkPathParameters requires that the template and the path section
// declare the same names, all strings.
func (f *Function) checkPathParameters() error {
	declared := f.types[SectionPath]
	used := make(map[string]bool)
	for _, seg := range f.segments {
		if !seg.param {
			continue
		}
		typ, ok := declared[seg.value]
		if !ok {
			return fmt.Errorf("path template %q uses {%s}, which parameters.path does not declare", f.Path, seg.value)
		}
		if typ != "string" {
			return fmt.Errorf("path parameter %s must have type string, got %q", seg.value, typ)
		}
		used[seg.value] = true
	}
	for name := range declared {
		if !used[name] {
			return fmt.Errorf("parameters.path declares %s, which path template %q does not use", name, f.Path)
		}
	}
	return nil
}

// Arguments are the values of one call, by section. Values are what
// encoding/json gives with UseNumber: string, json.Number, bool, nil,
// []any and map[string]any.
type Arguments struct {
	Path  map[string]any `json:"path,omitempty"`
	Query map[string]any `json:"query,omitempty"`
	Body  map[string]any `json:"body,omitempty"`
}

// ArgumentError lists why arguments do not fit a function.
type ArgumentError struct {
	Function string
	Problems []string
}

func (e *ArgumentError) Error() string {
	return fmt.Sprintf("invalid arguments for %s: %s", e.Function, strings.Join(e.Problems, "; "))
}

// Validate checks arguments against the function's schema and the rules no
// schema states: path parameters must be usable as one path segment.
func (f *Function) Validate(args Arguments) error {
	var problems []string
	for _, seg := range f.segments {
		if !seg.param {
			continue
		}
		value, ok := args.Path[seg.value].(string)
		switch {
		case !ok:
			// the schema check reports a missing or mistyped value
		case value == "":
			problems = append(problems, fmt.Sprintf("path.%s must not be empty", seg.value))
		case value == "." || value == "..":
			problems = append(problems, fmt.Sprintf("path.%s: %q is not a valid id", seg.value, value))
		}
	}

	// a declared section the caller left out is checked as empty, so that
	// a missing parameter is named (query.hide) rather than its section
	instance := args.instance()
	for section := range f.types {
		if _, ok := instance[section]; !ok {
			instance[section] = map[string]any{}
		}
	}
	err := f.schema.Validate(instance)
	if err != nil {
		var verr *jsonschema.ValidationError
		if !errors.As(err, &verr) {
			return fmt.Errorf("validating arguments for %s: %w", f.Name, err)
		}
		problems = append(problems, describeValidationError(verr)...)
	}

	if len(problems) > 0 {
		return &ArgumentError{Function: f.Name, Problems: problems}
	}
	return nil
}

// instance turns arguments into the generic value the validator takes,
// leaving out sections the caller did not send.
func (a Arguments) instance() map[string]any {
	v := make(map[string]any, 3)
	if a.Path != nil {
		v[SectionPath] = a.Path
	}
	if a.Query != nil {
		v[SectionQuery] = a.Query
	}
	if a.Body != nil {
		v[SectionBody] = a.Body
	}
	return v
}

var englishPrinter = message.NewPrinter(language.English)

// describeValidationError flattens a validation error into one line per
// problem, each naming the parameter as section.name.
func describeValidationError(verr *jsonschema.ValidationError) []string {
	var problems []string
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) > 0 {
			for _, cause := range e.Causes {
				walk(cause)
			}
			return
		}
		location := strings.Join(e.InstanceLocation, ".")
		switch k := e.ErrorKind.(type) {
		case *kind.Required:
			for _, missing := range k.Missing {
				problems = append(problems, joinLocation(location, missing)+" is required")
			}
		case *kind.AdditionalProperties:
			for _, extra := range k.Properties {
				problems = append(problems, joinLocation(location, extra)+" is not a parameter of this function")
			}
		default:
			if location == "" {
				location = "arguments"
			}
			problems = append(problems, location+": "+e.ErrorKind.LocalizedString(englishPrinter))
		}
	}
	walk(verr)
	sort.Strings(problems)
	return problems
}

func joinLocation(location, name string) string {
	if location == "" {
		return name
	}
	return location + "." + name
}
