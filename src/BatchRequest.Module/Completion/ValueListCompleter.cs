using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;

namespace BatchRequest.Completion;

/// <summary>Completes a parameter from a fixed list of values, matching what has been typed so far.</summary>
public abstract class ValueListCompleter : IArgumentCompleter
{
    private readonly string[] _values;

    protected ValueListCompleter(params string[] values) => _values = values;

    public IEnumerable<CompletionResult> CompleteArgument(
        string commandName,
        string parameterName,
        string wordToComplete,
        CommandAst commandAst,
        IDictionary fakeBoundParameters)
    {
        var typed = (wordToComplete ?? string.Empty).Trim('\'', '"');
        return _values
            .Where(value => value.StartsWith(typed, StringComparison.OrdinalIgnoreCase))
            .Select(value => new CompletionResult(value, value, CompletionResultType.ParameterValue, value));
    }
}

/// <summary>The HTTP versions worth asking for.</summary>
public sealed class HttpVersionCompleter : ValueListCompleter
{
    public HttpVersionCompleter()
        : base("1.0", "1.1", "2.0", "3.0")
    {
    }
}

/// <summary>The HTTP methods of RFC 9110 an API is called with; others may still be typed.</summary>
public sealed class HttpMethodCompleter : ValueListCompleter
{
    public HttpMethodCompleter()
        : base("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
    {
    }
}
